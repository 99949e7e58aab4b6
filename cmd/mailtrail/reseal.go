package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/mailtrail/mailtrail"
	"github.com/mailtrail/mailtrail/internal/connection"
	"github.com/mailtrail/mailtrail/internal/outbound"
	"github.com/mailtrail/mailtrail/internal/secrets"
)

// resealStore is what the startup re-seal needs of the store.
type resealStore interface {
	ResealConnections(ctx context.Context, f func(*mailtrail.Connection) (bool, error)) (int, error)
	ResealSubscriptions(ctx context.Context, f func(*mailtrail.Subscription) (bool, error)) (int, error)
}

// maxLoggedIDs bounds the ids listed in the warning about values that do not open.
const maxLoggedIDs = 20

// resealSecrets re-seals under the current service secret every value sealed at rest
// (connection credentials, previous credentials and mailbox logins; subscription secrets)
// that only a secret of --old-secret-keys opens: one transaction for the connections, one
// for the subscriptions. Once it has run, the retired secret is no longer needed to open
// anything. It logs how many rows it re-sealed, and warns about values that no configured
// secret opens (with their rows' ids, never a value); those are left as they are. It
// returns the store's errors.
func resealSecrets(ctx context.Context, db resealStore, keys secrets.Keyring, log *slog.Logger) error {
	var values int
	var unopened []string
	conns, err := db.ResealConnections(ctx, func(c *mailtrail.Connection) (bool, error) {
		n, bad, err := connection.Reseal(keys, c)
		if err != nil {
			return false, err
		}
		if bad > 0 {
			unopened = append(unopened, c.ID)
		}
		values += n
		return n > 0, nil
	})
	if err != nil {
		return fmt.Errorf("re-seal connection credentials: %w", err)
	}
	subs, err := db.ResealSubscriptions(ctx, func(s *mailtrail.Subscription) (bool, error) {
		changed, err := outbound.ResealSecret(keys, s)
		if errors.Is(err, secrets.ErrOpen) {
			unopened = append(unopened, s.ID)
			return false, nil
		}
		if changed {
			values++
		}
		return changed, err
	})
	if err != nil {
		return fmt.Errorf("re-seal subscription secrets: %w", err)
	}
	if conns+subs > 0 {
		log.InfoContext(ctx, "secrets sealed under a retired service secret re-sealed under the current one",
			"connections", conns, "subscriptions", subs, "values", values)
	}
	if len(unopened) > 0 {
		log.WarnContext(ctx, "sealed secrets that no configured service secret opens (list the secret they were sealed under in --old-secret-keys, or rotate these connections' credentials and recreate these subscriptions)",
			"count", len(unopened), "ids", unopened[:min(len(unopened), maxLoggedIDs)])
	}
	return nil
}
