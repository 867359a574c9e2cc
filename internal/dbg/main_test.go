package dbg
import ("testing";"os";"fmt";"time"
 bkllb "github.com/moby/buildkit/client/llb"
 "github.com/ladingbuild/lading/engine"
 "github.com/ladingbuild/lading/internal/llb"
 "github.com/ladingbuild/lading/sdk")
var id = os.Getenv("CID")
func w(args ...string) *sdk.Container { return sdk.From("debian:bookworm").WithMountedCache("/c", sdk.CacheVolume(id)).WithExec(args) }
func eng(t *testing.T) *engine.Engine { e, _ := engine.Connect(t.Context(), engine.WithAddress(os.Getenv("BUILDKIT_HOST")), engine.Silent(), engine.WithProgress(engine.ProgressQuiet)); return e }
func TestDefs(t *testing.T){
 for i, c := range []*sdk.Container{w("sh","-c","echo "+id+" > /c/v"), w("sh","-c","ls /c; echo "+fmt.Sprint(time.Now().UnixNano()))} {
 p, _ := llb.CompileValue(t.Context(), c, llb.Options{})
 f, _ := os.Create("/tmp/def"+string(rune('0'+i))); bkllb.WriteTo(p.Def, f); f.Close()
 }
}
func TestEWrite(t *testing.T){ _, err := eng(t).Build(t.Context(), w("sh","-c","echo "+id+" > /c/v")); t.Log(err) }
func TestERead(t *testing.T){ out, err := eng(t).Stdout(t.Context(), w("sh","-c","ls /c; echo "+fmt.Sprint(time.Now().UnixNano()))); t.Log("engine read:", out, err) }
