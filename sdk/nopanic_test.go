package sdk_test

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ladingbuild/lading/sdk"
	"github.com/ladingbuild/lading/sdk/sdktest"
)

// packageFuncs are sdk's exported functions, by name; TestNoInputPanics
// checks the list is complete.
var packageFuncs = map[string]any{
	"From": sdk.From, "Scratch": sdk.Scratch, "Host": sdk.Host, "Git": sdk.Git, "HTTP": sdk.HTTP,
	"NewDirectory": sdk.NewDirectory, "SecretFromEnv": sdk.SecretFromEnv, "SecretFromFile": sdk.SecretFromFile,
	"SecretFromValue": sdk.SecretFromValue, "Owner": sdk.Owner, "OwnerName": sdk.OwnerName,
	"Permissions": sdk.Permissions, "Include": sdk.Include, "Exclude": sdk.Exclude,
	"IgnoreDockerignore": sdk.IgnoreDockerignore, "KeepGitDir": sdk.KeepGitDir, "ForPlatform": sdk.ForPlatform,
	"Env": sdk.Env, "Workdir": sdk.Workdir, "AsUser": sdk.AsUser, "ExitCodes": sdk.ExitCodes,
	"TargetPlatformEnv": sdk.TargetPlatformEnv, "NoNetwork": sdk.NoNetwork, "Insecure": sdk.Insecure,
	"ProxyFromEnv": sdk.ProxyFromEnv, "SystemCABundle": sdk.SystemCABundle, "SaveLimit": sdk.SaveLimit,
	"ServicePorts": sdk.ServicePorts, "HealthCheck": sdk.HealthCheck, "ServiceEnv": sdk.ServiceEnv,
	"HealthTimeout": sdk.HealthTimeout,
}

// TestNoInputPanics calls every exported function and every method of
// sdk's value types with zero arguments (nil pointers, empty strings, nil
// slices, a nil option for a variadic option), on nil, zero and valid
// receivers. Nothing may panic, and whatever value comes out must plan and
// compile to nil or a ValidationError.
func TestNoInputPanics(t *testing.T) {
	t.Parallel()
	assert.ElementsMatch(t, exportedFuncs(t), keys(packageFuncs), "add new sdk functions to packageFuncs")
	for name, fn := range packageFuncs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			call(t, name, reflect.ValueOf(fn))
		})
	}
	receivers := map[string][]any{
		"Container": {(*sdk.Container)(nil), &sdk.Container{}, sdk.From("debian:bookworm").WithExec([]string{"true"})},
		"Directory": {(*sdk.Directory)(nil), &sdk.Directory{}, sdk.NewDirectory().WithNewFile("a", "b")},
		"File":      {(*sdk.File)(nil), &sdk.File{}, sdk.NewDirectory().WithNewFile("a", "b").File("a")},
		"Secret":    {(*sdk.Secret)(nil), &sdk.Secret{}, sdk.SecretFromValue("s", "v")},
	}
	for typ, recvs := range receivers {
		for i, r := range recvs {
			rv := reflect.ValueOf(r)
			for m := range rv.NumMethod() {
				name := fmt.Sprintf("%s.%s/%d", typ, rv.Type().Method(m).Name, i)
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					call(t, name, rv.Method(m))
				})
			}
		}
	}
}

// call calls fn with zero arguments and checks any value it returns.
func call(t *testing.T, name string, fn reflect.Value) {
	t.Helper()
	typ := fn.Type()
	args := make([]reflect.Value, typ.NumIn())
	for i := range args {
		args[i] = reflect.Zero(typ.In(i))
	}
	if typ.IsVariadic() {
		last := typ.In(typ.NumIn() - 1)
		if last.Elem().Kind() == reflect.Interface {
			args[len(args)-1] = reflect.MakeSlice(last, 1, 1) // one nil option
		}
	}
	var out []reflect.Value
	require.NotPanics(t, func() {
		if typ.IsVariadic() {
			out = fn.CallSlice(args)
		} else {
			out = fn.Call(args)
		}
	}, name)
	for _, o := range out {
		v, ok := o.Interface().(sdk.Value)
		if !ok {
			continue
		}
		require.NotPanics(t, func() {
			_ = sdktest.PlanOf(v).String()
			_, err := compile(t, v)
			var verr *sdk.ValidationError
			if err != nil && !errors.As(err, &verr) {
				t.Errorf("%s: compile failed without a ValidationError: %v", name, err)
			}
		}, name)
	}
}

// exportedFuncs lists sdk's exported top-level functions.
func exportedFuncs(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	var out []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.IsExported() {
				out = append(out, fd.Name.Name)
			}
		}
	}
	return out
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
