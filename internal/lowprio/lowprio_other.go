//go:build !linux

package lowprio

import "errors"

func lower(int) (int, error) { return 0, errors.ErrUnsupported }
