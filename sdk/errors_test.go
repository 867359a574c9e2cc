package sdk_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/llb"
	"github.com/ladingbuild/lading/sdk"
)

// TestCompileErrorsArePublic: what CompileValue (the engine's entry)
// returns for a bad argument is the public *sdk.ValidationError itself,
// and a compiler error wrapped deeper still matches it with errors.As.
func TestCompileErrorsArePublic(t *testing.T) {
	t.Parallel()
	_, err := llb.CompileValue(t.Context(), sdk.From(""), llb.Options{})
	verr, ok := err.(*sdk.ValidationError) //nolint:errorlint // the top of the chain is the public type itself
	require.True(t, ok, "got %T", err)
	assert.Equal(t, "From", verr.Op)
	assert.Equal(t, "sdk/errors_test.go", verr.Location.File)
	assert.Regexp(t, `^sdk/errors_test\.go:\d+$`, verr.Location.String())

	inner := llb.Invalid(llb.Location{File: "ci/main.go", Line: 7}, "WithExec", "args", "no command given", "pass one")
	wrapped := fmt.Errorf("build: %w", inner)
	var pub *sdk.ValidationError
	require.ErrorAs(t, wrapped, &pub)
	assert.Equal(t, sdk.ValidationError{Op: "WithExec", Arg: "args", Location: sdk.Location{File: "ci/main.go", Line: 7}, Problem: "no command given", Fix: "pass one"}, *pub)
	assert.Equal(t, inner.Error(), pub.Error())
	assert.Equal(t, "ci/main.go:7: WithExec: invalid args: no command given (pass one)", pub.Error())

	assert.NotErrorAs(t, errors.New("other"), &pub)
	assert.Equal(t, "unknown", sdk.Location{}.String())
}
