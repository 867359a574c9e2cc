// The test environment's SBOM scanner (hack/testenv.sh builds it): a module
// of its own so that syft stays out of lading's go.mod.
module ladingtestenv/sbomscanner

go 1.26

require github.com/anchore/syft v1.57.1
