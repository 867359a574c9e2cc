// Package pipeline runs the named targets of a `go run ./ci TARGET`
// program: targets with dependencies, flags, one engine shared by all,
// independent targets run concurrently, and a summary at the end.
//
//	func main() {
//		p := pipeline.New("myapp")
//		tag := p.Flags().String("tag", "", "publish to this image reference")
//		p.Target("test", "run the unit tests", test)
//		p.Target("build", "build the image", build, "test")
//		p.Target("publish", "push the image to -tag", publish, "build")
//		p.Main()
//	}
package pipeline
