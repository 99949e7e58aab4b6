package main

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mailtrail/mailtrail/internal/store/sqlite"
)

// A backup is a tar of three files: the manifest first, then the store (a VACUUM INTO
// snapshot) and the service secret. The secret is in it because without it every link
// already sent and every sealed credential is dead.
const (
	backupManifest = "mailtrail-backup.json"
	backupDB       = "mailtrail.db"
	backupSecret   = "secret.key"
	backupFormat   = 1
)

// backupFile is one file of a backup, as its manifest lists it.
type backupFile struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// backupInfo is the manifest of a backup.
type backupInfo struct {
	Format     int                   `json:"format"`
	CreatedAt  time.Time             `json:"created_at"`
	Version    string                `json:"mailtrail_version"`
	Migrations []string              `json:"migrations"` // applied in the snapshot
	Files      map[string]backupFile `json:"files"`
}

// runBackup is `mailtrail backup --to FILE`: a consistent copy of the data directory's
// store, taken beside the running server (or with none), and its secret key, in one tar.
func runBackup(ctx context.Context, args []string, stdout io.Writer) error {
	var to string
	l := newLeaf("backup", "mailtrail backup --to FILE [--data-dir DIR]",
		"Writes a consistent copy of the store of the data directory and its secret key (DATA_DIR/secret.key,\n"+
			"or --secret-key when it is set) to FILE, a tar. It runs beside a running server on the same machine\n"+
			"(it only reads the store, in one SQLite read transaction) or with none. FILE holds the secret: keep\n"+
			"it as you keep the secret. See docs/operations.md.",
		func(fs *flag.FlagSet) { fs.StringVar(&to, "to", "", "file to write (must not exist)") },
		"data-dir", "secret-key")
	if err := l.parse(args, stdout); err != nil {
		return err
	}
	cfg := l.cfg
	switch {
	case to == "":
		return errors.New("backup: --to FILE is required")
	case l.fs.NArg() > 0:
		return fmt.Errorf("backup: unexpected argument %q", l.fs.Arg(0))
	}
	if _, err := os.Lstat(to); err == nil {
		return fmt.Errorf("backup: %s exists: name a new file", to)
	}
	dbPath := filepath.Join(cfg.DataDir, backupDB)
	if _, err := os.Stat(dbPath); err != nil {
		return fmt.Errorf("backup: no store in %s: %w", cfg.DataDir, err)
	}
	secret, err := backupSecretBytes(cfg)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(to), ".mailtrail-backup-*")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer os.RemoveAll(tmp)
	snap := filepath.Join(tmp, backupDB)
	migs, err := sqlite.Snapshot(ctx, dbPath, snap)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	info := backupInfo{Format: backupFormat, CreatedAt: time.Now().UTC(), Version: buildVersion().String(), Migrations: migs,
		Files: map[string]backupFile{backupSecret: {Size: int64(len(secret)), SHA256: sha256Hex(secret)}}}
	if info.Files[backupDB], err = fileDigest(snap); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	archive := filepath.Join(tmp, "archive.tar")
	if err := writeBackup(archive, info, snap, secret); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := os.Rename(archive, to); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := syncDir(filepath.Dir(to)); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return printJSON(stdout, map[string]any{"file": to, "store_bytes": info.Files[backupDB].Size,
		"schema": lastOf(migs), "created_at": info.CreatedAt})
}

// backupSecretBytes is the service secret as a backup holds it: --secret-key when set,
// else DATA_DIR/secret.key. Without either the backup is refused.
func backupSecretBytes(cfg *Config) ([]byte, error) {
	if cfg.SecretKey != "" {
		return []byte(cfg.SecretKey + "\n"), nil
	}
	path := filepath.Join(cfg.DataDir, backupSecret)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("backup: the secret key: %w (without it the links already sent and the stored credentials of the backup are dead; set --secret-key / MAILTRAIL_SECRET_KEY if the server runs with one)", err)
	}
	return b, nil
}

// writeBackup writes the tar at path and syncs it.
func writeBackup(path string, info backupInfo, snap string, secret []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	manifest, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	add := func(name string, size int64, r io.Reader) error {
		hdr := &tar.Header{Name: name, Mode: 0o600, Size: size, ModTime: info.CreatedAt, Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := io.Copy(tw, r)
		return err
	}
	if err := add(backupManifest, int64(len(manifest)), strings.NewReader(string(manifest))); err != nil {
		return err
	}
	db, err := os.Open(snap)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := add(backupDB, info.Files[backupDB].Size, db); err != nil {
		return err
	}
	if err := add(backupSecret, int64(len(secret)), strings.NewReader(string(secret))); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return f.Close()
}

// runRestore is `mailtrail restore --from FILE --data-dir DIR`: a backup put back into an
// empty or new data directory. The store is not migrated here: serve does it at start.
func runRestore(ctx context.Context, args []string, stdout io.Writer) error {
	var from string
	l := newLeaf("restore", "mailtrail restore --from FILE --data-dir DIR",
		"Puts the backup FILE (from mailtrail backup) into DIR, which must be new or empty, after checking\n"+
			"its checksums and the store's integrity. Start the server on DIR afterwards; a backup of an\n"+
			"older version is migrated at that start. See docs/operations.md.",
		func(fs *flag.FlagSet) { fs.StringVar(&from, "from", "", "backup file to restore") },
		"data-dir")
	if err := l.parse(args, stdout); err != nil {
		return err
	}
	cfg := l.cfg
	switch {
	case from == "":
		return errors.New("restore: --from FILE is required")
	case l.fs.NArg() > 0:
		return fmt.Errorf("restore: unexpected argument %q", l.fs.Arg(0))
	case cfg.DataDir == "":
		return errors.New("restore: --data-dir is required")
	}
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := checkEmptyDir(dir); err != nil {
		return err
	}
	in, err := os.Open(from)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".mailtrail-restore-*")
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer os.RemoveAll(tmp)
	info, err := extractBackup(in, tmp)
	if err != nil {
		return fmt.Errorf("restore: %s: %w", from, err)
	}
	if newer := sqlite.UnknownMigrations(info.Migrations); len(newer) > 0 {
		return fmt.Errorf("restore: %s was taken by a newer mailtrail (%s; migrations %s unknown to %s): restore it with that version",
			from, info.Version, strings.Join(newer, ", "), buildVersion())
	}
	if err := sqlite.Check(ctx, filepath.Join(tmp, backupDB)); err != nil {
		return fmt.Errorf("restore: %s: %w", from, err)
	}
	// A backup holds the store, not the event log (serve --event-log): the restored
	// store starts a new log, its events that log's starting point.
	if err := sqlite.ForgetPositions(ctx, filepath.Join(tmp, backupDB)); err != nil {
		return fmt.Errorf("restore: %s: %w", from, err)
	}
	// The directory's ownership while the files move in, so that no server starts on a
	// half-restored directory; the lock file is the only other file then.
	lock, err := lockDataDir(dir, "")
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer lock.release()
	if err := checkEmptyDir(dir, lockFileName); err != nil {
		return err
	}
	for _, name := range []string{backupSecret, backupDB} { // the store last: its presence means done
		if err := os.Rename(filepath.Join(tmp, name), filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	return printJSON(stdout, map[string]any{"data_dir": dir, "schema": lastOf(info.Migrations), "created_at": info.CreatedAt,
		"mailtrail_version": info.Version})
}

// checkEmptyDir returns an error unless dir is missing or holds only the files allowed.
func checkEmptyDir(dir string, allowed ...string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	for _, e := range ents {
		if !slices.Contains(allowed, e.Name()) {
			return fmt.Errorf("restore: %s is not empty (it holds %s): restore into a new or empty directory", dir, e.Name())
		}
	}
	return nil
}

// extractBackup reads a backup tar into dir, checking every file against the manifest; it
// returns the manifest.
func extractBackup(r io.Reader, dir string) (backupInfo, error) {
	var info backupInfo
	tr := tar.NewReader(r)
	hdr, err := tr.Next()
	if err != nil || hdr.Name != backupManifest || hdr.Size > 1<<20 {
		return info, errors.New("not a mailtrail backup (no manifest first)")
	}
	if err := json.NewDecoder(io.LimitReader(tr, 1<<20)).Decode(&info); err != nil {
		return info, fmt.Errorf("manifest: %w", err)
	}
	if info.Format != backupFormat {
		return info, fmt.Errorf("backup format %d unknown to this version", info.Format)
	}
	got := map[string]bool{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return info, err
		}
		want, ok := info.Files[hdr.Name]
		if !ok || got[hdr.Name] || (hdr.Name != backupDB && hdr.Name != backupSecret) || hdr.Size != want.Size {
			return info, fmt.Errorf("unexpected file %q in the backup", hdr.Name)
		}
		got[hdr.Name] = true
		f, err := os.OpenFile(filepath.Join(dir, hdr.Name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return info, err
		}
		h := sha256.New()
		_, err = io.Copy(io.MultiWriter(f, h), io.LimitReader(tr, want.Size))
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return info, err
		}
		if hex.EncodeToString(h.Sum(nil)) != want.SHA256 {
			return info, fmt.Errorf("%s: checksum mismatch (the file is damaged)", hdr.Name)
		}
	}
	for _, name := range []string{backupDB, backupSecret} {
		if !got[name] {
			return info, fmt.Errorf("%s missing from the backup (truncated file?)", name)
		}
	}
	return info, nil
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func fileDigest(path string) (backupFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return backupFile{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	return backupFile{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func lastOf(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return strings.TrimSuffix(strings.TrimPrefix(s[len(s)-1], "migrations/"), ".sql")
}
