//go:build !linux

package lowprio

import "errors"

func run(_ int, fn func(int, error)) { fn(0, errors.ErrUnsupported) }
