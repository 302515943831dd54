package main

import (
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	old := version
	t.Cleanup(func() { version = old })
	tests := []struct {
		name, linked, want string
	}{
		{"release build", "0.1.0", "intunectl version 0.1.0\n"},
		{"development build", "", "intunectl version (development build)\n"},
	}
	for _, tc := range tests {
		for _, arg := range []string{"version", "--version"} {
			t.Run(tc.name+"/"+arg, func(t *testing.T) {
				version = tc.linked
				code, out, errOut := runCLI(t, "", arg)
				if code != exitOK || out != tc.want || errOut != "" {
					t.Errorf("exit %d, stdout %q, stderr %q; want exit 0, stdout %q", code, out, errOut, tc.want)
				}
			})
		}
	}
	if !strings.Contains(usageText(), "intunectl version") {
		t.Error("usage does not mention the version command")
	}
}
