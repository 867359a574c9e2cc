package sdk_test

import (
	"errors"
	"testing"

	"github.com/ladingbuild/lading/sdk"
	"github.com/ladingbuild/lading/sdk/sdktest"
)

// FuzzSteps drives the builders with random step sequences and random
// arguments. Whatever the input, building, planning and compiling must not
// panic, and a failure must be a ValidationError.
//
// Long run: go test ./sdk -run '^$' -fuzz FuzzSteps -fuzztime 2m
func FuzzSteps(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5}, "/src", "go")
	f.Add([]byte{7, 8, 9, 10, 11, 12, 13}, "../etc", "")
	f.Add([]byte{14, 15, 16, 17, 18, 19, 20, 21}, "relative/path", "a=b")
	f.Add([]byte{2, 2, 2, 9, 9, 0, 0}, "/", "\x00")
	f.Add([]byte{22, 23, 24, 25, 26, 27}, "/x", "debian")
	f.Fuzz(func(t *testing.T, ops []byte, path, word string) {
		if len(ops) > 64 {
			ops = ops[:64]
		}
		c := sdk.From("debian:bookworm")
		other := sdk.From("golang:1.26").WithExec([]string{"true"})
		d := sdk.NewDirectory()
		for i, op := range ops {
			switch op % 28 {
			case 0:
				c = c.WithExec([]string{word, path})
			case 1:
				c = c.WithEnv(word, path)
			case 2:
				c = c.WithWorkdir(path)
			case 3:
				c = c.WithUser(word)
			case 4:
				c = c.WithNewFile(path, word)
			case 5:
				c = c.WithDirectory(path, d)
			case 6:
				c = c.WithFile(path, other.File(path))
			case 7:
				c = c.WithoutPath(path)
			case 8:
				c = c.WithMountedCache(path, sdk.CacheVolume(word), sdk.Sharing(i%4))
			case 9:
				c = c.WithMountedTemp(path)
			case 10:
				c = c.WithMountedSecret(path, sdk.SecretFromValue(word, "v"))
			case 11:
				c = c.WithSecretEnv(word, sdk.SecretFromValue("s", word))
			case 12:
				c = c.WithMountedDirectory(path, other.Directory(path))
			case 13:
				c = c.WithExposedPort(i*1000, sdk.Protocol(word))
			case 14:
				c = c.WithLabel(word, path)
			case 15:
				c = c.WithEntrypoint(word, path)
			case 16:
				c = c.WithoutMount(path)
			case 17:
				d = d.WithNewFile(path, word)
			case 18:
				d = d.Directory(path)
			case 19:
				c = sdk.From(word)
			case 20:
				c = c.WithExec([]string{word}, sdk.Workdir(path), sdk.ExitCodes(i))
			case 21:
				c = c.WithProxy(sdk.Proxy{HTTP: word, NoProxy: path})
			case 22:
				c = sdk.From(word, nil, sdk.ForPlatform(sdk.Platform(path)))
			case 23:
				c = sdk.Scratch(nil)
			case 24:
				c = c.WithDirectory(path, sdk.Git(word, path, nil), nil)
			case 25:
				c = c.WithFile(path, sdk.HTTP(word, path, nil))
			case 26:
				c = c.WithExec([]string{word}, nil, sdk.Env(word, path))
			case 27:
				d = d.WithDirectory(path, sdk.Host(word, nil, sdk.Exclude(path)))
			}
		}
		for _, v := range []sdk.Value{c, d, c.File(path), c.Directory(path)} {
			_ = sdktest.PlanOf(v).String()
			_, err := compile(t, v)
			var verr *sdk.ValidationError
			if err != nil && !errors.As(err, &verr) {
				t.Fatalf("compile failed without a ValidationError: %v", err)
			}
		}
	})
}
