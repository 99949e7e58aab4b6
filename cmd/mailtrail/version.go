package main

import (
	"fmt"
	"runtime/debug"
)

// versionInfo is what the binary knows of its build: the module version and the VCS
// revision Go stamps into it (go build in a git checkout), from runtime/debug.
type versionInfo struct {
	Module   string // e.g. v1.2.0, or (devel) for a build of a checkout
	Revision string // git commit, "" when unknown
	Time     string // commit time (RFC 3339)
	Modified bool   // built from a tree with uncommitted changes
	Go       string
}

// buildVersion reads the build information of the running binary.
func buildVersion() versionInfo {
	v := versionInfo{Module: "unknown"}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	v.Module, v.Go = bi.Main.Version, bi.GoVersion
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

// String is "MODULE_VERSION (REVISION[+modified], TIME)", or "MODULE_VERSION (revision
// unknown)" for a build without VCS information (-buildvcs=false, or not in a git clone).
func (v versionInfo) String() string {
	s := v.Module
	if v.Revision == "" {
		s += " (revision unknown)"
	} else {
		rev := v.Revision
		if v.Modified {
			rev += "+modified"
		}
		s += " (" + rev
		if v.Time != "" {
			s += ", " + v.Time
		}
		s += ")"
	}
	return s
}

// line is what `mailtrail version` prints.
func (v versionInfo) line() string {
	return fmt.Sprintf("mailtrail %s %s", v, v.Go)
}
