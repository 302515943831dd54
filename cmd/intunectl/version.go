package main

import (
	"fmt"
	"runtime/debug"
)

// version is set at link time by the release build
// (-ldflags "-X main.version=..."), from builder-config.yaml's dist version,
// so that intunectl and the collector of one package report the same version.
var version string

// versionLine is what `intunectl version` prints.
func versionLine() string {
	v := version
	if v == "" {
		v = "(development build)"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
	}
	return fmt.Sprintf("intunectl version %s\n", v)
}

func (c *cli) printVersion([]string) int {
	fmt.Fprint(c.stdout, versionLine())
	return exitOK
}
