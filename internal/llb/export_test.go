package llb

// CompileStates compiles through client/llb States: the test oracle of
// Compile (see oracle_test.go).
var CompileStates = compileStates
