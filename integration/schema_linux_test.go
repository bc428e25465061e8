package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The shipped schema, compiled once for every document the tests produce.
var (
	schemaOnce    sync.Once
	shippedSchema *jsonschema.Schema
	shippedErr    error
)

// shipped is the shipped schema, compiled once.
func shipped(t *testing.T) *jsonschema.Schema {
	t.Helper()
	schemaOnce.Do(func() {
		shippedSchema, shippedErr = jsonschema.NewCompiler().Compile(filepath.Join(repo, "testdata/json/output.schema.json"))
	})
	if shippedErr != nil {
		t.Fatal(shippedErr)
	}
	return shippedSchema
}

// wantsJSON tells a command line that asks for --format json (the last
// --format counts, as the plugin reads it).
func wantsJSON(args []string) bool {
	format := ""
	for i, a := range args {
		switch {
		case a == "--":
			return format == "json"
		case strings.HasPrefix(a, "--format="):
			format = strings.ToLower(strings.TrimPrefix(a, "--format="))
		case a == "--format" && i+1 < len(args):
			format = strings.ToLower(args[i+1])
		}
	}
	return format == "json"
}

// validateOutput checks stdout of a run that asked for JSON against the
// shipped schema: one contract for every document the tests see.
func validateOutput(t *testing.T, args []string, stdout string) {
	t.Helper()
	if !wantsJSON(args) || stdout == "" {
		return
	}
	schema := shipped(t)
	var doc any
	if err := json.Unmarshal([]byte(stdout), &doc); err != nil || strings.Count(stdout, "\n") != 1 {
		t.Errorf("%q: not one JSON document on one line: %v\n%.400s", args, err, stdout)
		return
	}
	if err := schema.Validate(doc); err != nil {
		t.Errorf("%q: the document does not match the shipped schema: %v\n%.400s", args, err, stdout)
	}
}

// TestSchemaGoldenFiles: every JSON document in the golden files, and the
// documents of a few command lines, follow the shipped schema, which names
// the version the plugin writes.
func TestSchemaGoldenFiles(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(repo, "testdata/report/*.golden"))
	docs := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.Lines(string(b)) {
			if strings.HasPrefix(line, "{") {
				validateOutput(t, []string{"--format", "json"}, line)
				docs++
			}
		}
	}
	if docs < 3 {
		t.Fatalf("found %d JSON documents in %d golden files", docs, len(files))
	}
	for _, args := range [][]string{{"--format", "json"}, {"--format=json", "-w", "abc"}, {"--format", "json", "--group-by", "none", "-c", "0"}} {
		stdout, _, _ := runBinary(t, args...) // validated there
		if !slices.Contains([]string{`"schema_version":2,`}, stdout[1:min(len(stdout), 20)]) {
			t.Errorf("%q: no schema_version 2 first: %.80s", args, stdout)
		}
	}
}
