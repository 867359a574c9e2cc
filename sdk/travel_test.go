package sdk_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/internal/llb"
	"github.com/ladingbuild/lading/sdk"
)

func travelBuild(opts ...sdk.CacheOption) *sdk.Container {
	return sdk.From("golang:1.26").
		WithWorkdir("/src").
		WithMountedCache("/root/.cache/go-build", sdk.CacheVolume("go-build"), opts...).
		WithExec([]string{"go", "build", "./..."}).
		WithMountedCache("/go/pkg/mod", sdk.CacheVolume("go-mod"), sdk.Owner(1000, 1000)).
		WithExec([]string{"go", "test", "./..."})
}

func TestTravelOptionsKeepCacheKeys(t *testing.T) {
	t.Parallel()
	plain, err := llb.CompileValue(t.Context(), travelBuild(), llb.Options{Volumes: true})
	require.NoError(t, err)
	for _, opts := range [][]sdk.CacheOption{{sdk.LocalOnly}, {sdk.SaveLimit("2GB")}, {sdk.LocalOnly, sdk.SaveLimit("10MB")}} {
		p, err := llb.CompileValue(t.Context(), travelBuild(opts...), llb.Options{Volumes: true})
		require.NoError(t, err)
		assert.Equal(t, plain.Def.Def, p.Def.Def, "travel options change no op")
		assert.Equal(t, plain.Steps, p.Steps, "nor any step's identity")
	}
}

func TestTravelOptionsReachTheProgram(t *testing.T) {
	t.Parallel()
	p, err := llb.CompileValue(t.Context(), travelBuild(sdk.SaveLimit("2GB")), llb.Options{Volumes: true})
	require.NoError(t, err)
	require.Len(t, p.Volumes, 2)
	build, mod := p.Volumes[0], p.Volumes[1]
	assert.Equal(t, "go-build", build.ID)
	assert.Equal(t, "/root/.cache/go-build", build.Target)
	assert.Equal(t, int64(2<<30), build.Travel.SaveLimit)
	assert.NotNil(t, build.Root, "the first use's root filesystem")
	assert.Nil(t, build.Owner)
	assert.Equal(t, "go-mod", mod.ID)
	assert.NotNil(t, mod.Owner, "the owner's directory the mount is based on")

	p, err = llb.CompileValue(t.Context(), travelBuild(sdk.LocalOnly), llb.Options{Volumes: true})
	require.NoError(t, err)
	assert.True(t, p.Volumes[0].Travel.LocalOnly)
	assert.Nil(t, p.Volumes[0].Root, "a local-only volume needs no copy step")
}

func TestSaveLimitMustBeASize(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"", "lots", "-1GB", "0"} {
		_, err := llb.CompileValue(t.Context(), travelBuild(sdk.SaveLimit(bad)), llb.Options{Volumes: true})
		var ve *sdk.ValidationError
		require.ErrorAs(t, err, &ve, "SaveLimit(%q)", bad)
		assert.Equal(t, "SaveLimit", ve.Arg)
		assert.Contains(t, ve.Fix, `sdk.SaveLimit("2GB")`)
	}
}
