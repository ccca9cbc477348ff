package template

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// module is this repository's Go module.
const module = "github.com/secondme/twin"

// envName is the shape of an environment variable's name: upper case words joined by underscores.
var envName = regexp.MustCompile(`^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$`)

// The AWS SDK's config loader reads AWS_ENDPOINT_URL_<SERVICE> itself, for each service client a
// function links, SERVICE being the client's ServiceID in upper case with underscores ("Secrets
// Manager": AWS_ENDPOINT_URL_SECRETS_MANAGER), as the SDK's config.EnvConfig does.
const (
	sdkConfig   = "github.com/aws/aws-sdk-go-v2/config"
	sdkServices = "github.com/aws/aws-sdk-go-v2/service/"
)

// envReads is, per function package (functions/<name>), the variables its code reads.
type envReads map[string]map[string]bool

// readEnvReads collects, for each function package, the variables read by the module packages it
// links, as the Lambda build links them (linux/arm64, its build tags):
//   - a string literal (or a constant naming one) passed to a getenv-like call: a call of an identifier
//     or selector named getenv, Getenv or LookupEnv;
//   - a variable-shaped literal inside a function that makes such a call (tables of names read in a
//     loop, or helpers like the root's p.int("CHAT_HISTORY", ...));
//   - the keys of a map literal in a package-level variable whose keys are all variable-shaped (the
//     root's secretVars; a model provider's Settings and Secrets, which the root reads for it).
//
// A function that links the AWS SDK's config loader also reads AWS_ENDPOINT_URL_<SERVICE> for each
// service client it links.
func readEnvReads(t *testing.T) envReads {
	t.Helper()
	goList := func(args ...string) []string {
		cmd := exec.Command("go", append([]string{"list", "-tags", "lambda.norpc,grpcnotrace"}, args...)...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list %v: %v\n%s", args, err, stderr.Bytes())
		}
		return strings.Split(strings.TrimSpace(string(out)), "\n")
	}
	// Every module package's directory and Go files.
	files := map[string][]string{}
	for _, line := range goList("-f", `{{.ImportPath}}|{{.Dir}}|{{join .GoFiles ","}}`, "./...") {
		parts := strings.SplitN(line, "|", 3)
		for _, f := range strings.Split(parts[2], ",") {
			if f != "" {
				files[parts[0]] = append(files[parts[0]], filepath.Join(parts[1], f))
			}
		}
	}
	fset := token.NewFileSet()
	perPackage := map[string]map[string]bool{}
	readsOf := func(pkg string) map[string]bool {
		if r, ok := perPackage[pkg]; ok {
			return r
		}
		var parsed []*ast.File
		for _, f := range files[pkg] {
			af, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			parsed = append(parsed, af)
		}
		r := envReadsOf(parsed)
		perPackage[pkg] = r
		return r
	}

	// The SDK service clients' endpoint variables.
	serviceVar := func(pkg string) string {
		lines := goList("-f", `{{.Dir}}`, pkg)
		f, err := parser.ParseFile(fset, filepath.Join(lines[0], "api_client.go"), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.CONST {
				for _, spec := range gd.Specs {
					vs := spec.(*ast.ValueSpec)
					if len(vs.Names) == 1 && vs.Names[0].Name == "ServiceID" && len(vs.Values) == 1 {
						if id, ok := stringLit(vs.Values[0]); ok {
							return "AWS_ENDPOINT_URL_" + strings.ReplaceAll(strings.ToUpper(id), " ", "_")
						}
					}
				}
			}
		}
		t.Fatalf("%s has no ServiceID constant in api_client.go", pkg)
		return ""
	}
	serviceVars := map[string]string{}

	out := envReads{}
	for _, line := range goList("-f", `{{.ImportPath}}|{{join .Deps ","}}`, "./functions/...") {
		pkg, depList, _ := strings.Cut(line, "|")
		dir := strings.TrimPrefix(pkg, module+"/")
		if !strings.HasPrefix(dir, "functions/") || dir == "functions/app" || strings.HasPrefix(dir, "functions/app/") {
			continue
		}
		reads := map[string]bool{}
		deps := append(strings.Split(depList, ","), pkg)
		for _, p := range deps {
			if p == module || strings.HasPrefix(p, module+"/") {
				for v := range readsOf(p) {
					reads[v] = true
				}
			}
			name, isService := strings.CutPrefix(p, sdkServices)
			if isService && !strings.Contains(name, "/") && slices.Contains(deps, sdkConfig) {
				if serviceVars[p] == "" {
					serviceVars[p] = serviceVar(p)
				}
				reads[serviceVars[p]] = true
			}
		}
		out[dir] = reads
	}
	if len(out) == 0 {
		t.Fatal("go list found no function package under functions/")
	}
	return out
}

// envReadsOf returns the variables one package's files read (see readEnvReads).
func envReadsOf(files []*ast.File) map[string]bool {
	reads := map[string]bool{}
	consts := map[string]string{} // package-level string constants
	for _, f := range files {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, spec := range gd.Specs {
				vs, ok := spec.(*ast.ValueSpec)
				if !ok {
					continue
				}
				for i, v := range vs.Values {
					if s, ok := stringLit(v); ok && gd.Tok == token.CONST && i < len(vs.Names) {
						consts[vs.Names[i].Name] = s
					}
					ast.Inspect(v, func(n ast.Node) bool {
						if cl, ok := n.(*ast.CompositeLit); ok {
							if _, isMap := cl.Type.(*ast.MapType); isMap {
								for _, k := range envMapKeys(cl) {
									reads[k] = true
								}
							}
						}
						return true
					})
				}
			}
		}
	}
	for _, f := range files {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			getenvCall := false
			var shaped []string
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.CallExpr:
					if isGetenv(n.Fun) {
						getenvCall = true
						if len(n.Args) > 0 {
							if s, ok := stringLit(n.Args[0]); ok {
								reads[s] = true
							} else if id, ok := n.Args[0].(*ast.Ident); ok && consts[id.Name] != "" {
								reads[consts[id.Name]] = true
							}
						}
					}
				case *ast.BasicLit:
					if s, ok := stringLit(n); ok && envName.MatchString(s) {
						shaped = append(shaped, s)
					}
				}
				return true
			})
			if getenvCall {
				for _, s := range shaped {
					reads[s] = true
				}
			}
		}
	}
	return reads
}

// isGetenv reports whether a call's function is named getenv, Getenv or LookupEnv.
func isGetenv(fun ast.Expr) bool {
	name := ""
	switch f := fun.(type) {
	case *ast.Ident:
		name = f.Name
	case *ast.SelectorExpr:
		name = f.Sel.Name
	}
	return name == "getenv" || name == "Getenv" || name == "LookupEnv"
}

// envMapKeys returns the keys of a map literal when every key is a variable-shaped string literal.
func envMapKeys(cl *ast.CompositeLit) []string {
	var keys []string
	for _, e := range cl.Elts {
		kv, ok := e.(*ast.KeyValueExpr)
		if !ok {
			return nil
		}
		s, ok := stringLit(kv.Key)
		if !ok || !envName.MatchString(s) {
			return nil
		}
		keys = append(keys, s)
	}
	return keys
}

func stringLit(e ast.Expr) (string, bool) {
	bl, ok := e.(*ast.BasicLit)
	if !ok || bl.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(bl.Value)
	return s, err == nil
}

func (r envReads) reads(dir, name string) bool { return r[dir][name] }

func TestEnvReadsOf(t *testing.T) {
	src := `package p
const queueVar = "COMPAT_QUEUE_URL"
var secretFields = map[string]string{"SEALING_KEY_SECRET_ARN": "sealingKey", "OIDC_CLIENT_SECRET_ARN": "oidc"}
var labels = map[string]string{"NOT_READ_HERE": "x", "lower": "y"}
func a(getenv func(string) string) { _ = getenv("TABLE_NAME"); _ = getenv(queueVar) }
func b(getenv func(string) string) {
	for _, v := range []struct{ name string }{{"MATCH_K"}} { _ = getenv(v.name) }
}
func c() string { return "NOT_AN_ENV_READ" }
func d() { _, _ = os.LookupEnv("SQS_ENDPOINT") }
`
	f, err := parser.ParseFile(token.NewFileSet(), "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := envReadsOf([]*ast.File{f})
	want := []string{"COMPAT_QUEUE_URL", "MATCH_K", "OIDC_CLIENT_SECRET_ARN", "SEALING_KEY_SECRET_ARN", "SQS_ENDPOINT", "TABLE_NAME"}
	var names []string
	for k := range got {
		names = append(names, k)
	}
	slices.Sort(names)
	if !slices.Equal(names, want) {
		t.Errorf("envReadsOf = %v, want %v", names, want)
	}
}

// runtimeVars are the variables the template may set that the Go runtime reads, not the code.
var runtimeVars = map[string]bool{"GOMAXPROCS": true}

// envProblems is check (c): every variable the template sets for a function, Globals included, is
// read by that function's code (or by the Go runtime: runtimeVars).
func envProblems(c cfn, reads envReads) []string {
	var problems []string
	for _, fn := range c.of("AWS::Lambda::Function") {
		dir, ok := functionDir(fn)
		if !ok {
			continue // TestSAMTranslator names it
		}
		vars, _ := dig(c.Resources[fn].Properties, "Environment", "Variables").(map[string]any)
		names := make([]string, 0, len(vars))
		for k := range vars {
			names = append(names, k)
		}
		slices.Sort(names)
		for _, k := range names {
			if !runtimeVars[k] && !reads.reads(dir, k) {
				problems = append(problems, fmt.Sprintf("%s sets %s, which %s never reads", fn, k, dir))
			}
		}
	}
	return problems
}
