package lint_test

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/lint"
	"github.com/ladingbuild/lading/sdk"
)

// Findings about the user and the entrypoint point at the setter's line,
// not at the image's last step.
func TestImageFindingsPointAtTheSetter(t *testing.T) {
	t.Parallel()
	line := func() int { _, _, l, _ := runtime.Caller(1); return l }
	base := sdk.From("debian:bookworm@sha256:" + sixtyFour).WithExec([]string{"true"})
	var userLine, entryLine, cmdLine int
	c := base.WithUser("root")
	userLine = line() - 1
	c = c.WithEntrypoint("/lib/systemd/systemd")
	entryLine = line() - 1
	d := base.WithUser("10001").WithEntrypoint("tini", "--")
	d = d.WithDefaultArgs("supervisord", "-n")
	cmdLine = line() - 1

	for _, tc := range []struct {
		v    sdk.Value
		rule lint.Rule
		line int
	}{{c, lint.RootUser, userLine}, {c, lint.InitEntrypoint, entryLine}, {d, lint.InitEntrypoint, cmdLine}} {
		rep, err := lint.Run(tc.v)
		require.NoError(t, err)
		f := findRule(rep.Findings(), tc.rule)
		require.NotNil(t, f, "%s found", tc.rule)
		assert.Equal(t, "lint/setter_location_test.go", f.Location.File, tc.rule)
		assert.Equal(t, tc.line, f.Location.Line, tc.rule)
	}
}

const sixtyFour = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func findRule(fs []lint.Finding, r lint.Rule) *lint.Finding {
	for i := range fs {
		if fs[i].Rule == r {
			return &fs[i]
		}
	}
	return nil
}
