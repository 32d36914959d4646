package main

// Every other package of the generated SDK, so that this module's go.sum covers all it
// needs and `go vet` reaches them (tests/sdk/test_sdk_compile.py).
import _ "github.com/pulumi-opensearch-fn/pulumi-opensearch-fn/sdk/go/opensearchfn/config"
