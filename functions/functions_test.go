package functions_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pufinid/pufinid-api/functions"
	"github.com/pufinid/pufinid-api/shared/dev/lambdaenv"
	"github.com/pufinid/pufinid-api/shared/dev/lambdarun"
	"github.com/pufinid/pufinid-api/shared/dev/module"
	"github.com/pufinid/pufinid-api/shared/dev/samtemplate"
)

const modulePath = "github.com/pufinid/pufinid-api"

// The list of groups and template.yaml's functions are the same set.
func TestGroupsAreTheTemplateFunctions(t *testing.T) {
	t.Parallel()
	tmpl, err := samtemplate.LoadModule(".")
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, g := range functions.Groups {
		if slices.Contains(listed, g.Function) {
			t.Errorf("%s is listed twice", g.Function)
		}
		listed = append(listed, g.Function)
		if _, ok := tmpl.Function(g.Function); !ok {
			t.Errorf("the list of groups has %s, which template.yaml does not declare", g.Function)
		}
	}
	for _, f := range tmpl.APIFunctions() {
		if !slices.Contains(listed, f.LogicalID) {
			t.Errorf("template.yaml declares %s, which the list of groups lacks", f.LogicalID)
		}
	}
	// The functions outside the HTTP API are the list of event functions.
	var events []string
	for _, e := range functions.EventFunctions {
		events = append(events, e.Function)
		f, ok := tmpl.Function(e.Function)
		switch {
		case !ok:
			t.Errorf("the list of event functions has %s, which template.yaml does not declare", e.Function)
		case f.InAPI():
			t.Errorf("%s is listed as an event function but serves routes of the HTTP API", e.Function)
		case len(f.EventSources) == 0:
			t.Errorf("%s is listed as an event function but nothing invokes it", e.Function)
		}
	}
	for _, f := range tmpl.EventFunctions() {
		if !slices.Contains(events, f.LogicalID) {
			t.Errorf("template.yaml declares %s, outside the HTTP API, which the list of event functions lacks", f.LogicalID)
		}
	}
}

// Every directory of functions/ with a main.go is a listed group.
func TestEveryFunctionDirectoryIsAGroup(t *testing.T) {
	t.Parallel()
	root := mustRoot(t)
	mains, err := filepath.Glob(filepath.Join(root, "functions", "*", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	if len(mains) == 0 {
		t.Fatal("no functions/*/main.go")
	}
	for _, m := range mains {
		dir, _ := filepath.Rel(root, filepath.Dir(m))
		if !slices.ContainsFunc(functions.Groups, func(g functions.Group) bool { return lambdarun.Dir(g.Function) == filepath.ToSlash(dir) }) &&
			!slices.ContainsFunc(functions.EventFunctions, func(e functions.EventFunction) bool { return lambdarun.Dir(e.Function) == filepath.ToSlash(dir) }) {
			t.Errorf("%s has a main.go but no entry in the list of groups or of event functions", dir)
		}
	}
}

func TestEveryGroup(t *testing.T) {
	t.Parallel()
	root := mustRoot(t)
	for _, g := range functions.Groups {
		t.Run(g.Function, func(t *testing.T) {
			t.Parallel()
			if g.Setup == nil || g.Routes == nil {
				t.Fatal("the entry has no Setup or no Routes")
			}
			if len(g.Routes()) == 0 {
				t.Error("its router registers no route")
			}
			checkEntry(t, root, g.Function, g.Setup, "Start", g.Sample)
			// The function reads exactly the environment template.yaml
			// gives it.
			t.Run("environment", func(t *testing.T) { lambdaenv.Check(t, g.Function, g.Setup) })
		})
	}
}

func TestEveryEventFunction(t *testing.T) {
	t.Parallel()
	root := mustRoot(t)
	for _, e := range functions.EventFunctions {
		t.Run(e.Function, func(t *testing.T) {
			t.Parallel()
			if e.Setup == nil {
				t.Fatal("the entry has no Setup")
			}
			checkEntry(t, root, e.Function, e.Setup, "StartEvents", e.Sample)
			t.Run("environment", func(t *testing.T) { lambdaenv.Check(t, e.Function, e.Setup) })
		})
	}
}

// checkEntry checks a list entry against its directory: its main starts
// its Setup with lambdafn.<start>, and its sample is an event of its own.
func checkEntry(t *testing.T, root, function string, setup any, start, sample string) {
	t.Helper()
	dir := lambdarun.Dir(function)
	t.Run("main starts its Setup", func(t *testing.T) {
		pkg, name := setupFunc(t, setup)
		if name != "Setup" || !strings.HasPrefix(pkg, modulePath+"/"+dir+"/") {
			t.Fatalf("the entry's Setup is %s.%s, not the Setup of a package under %s", pkg, name, dir)
		}
		checkMainStarts(t, filepath.Join(root, dir, "main.go"), pkg, start)
	})
	t.Run("sample event", func(t *testing.T) {
		want := "events/" + filepath.Base(dir) + "/"
		if !strings.HasPrefix(sample, want) || !strings.HasSuffix(sample, ".json") || strings.HasSuffix(sample, ".expected.json") {
			t.Fatalf("Sample %q is not an event of %s", sample, want)
		}
		if _, err := os.Stat(filepath.Join(root, sample)); err != nil {
			t.Fatal(err)
		}
	})
}

// setupFunc names the function f is: its package path and name.
func setupFunc(t *testing.T, f any) (pkg, name string) {
	t.Helper()
	full := runtime.FuncForPC(reflect.ValueOf(f).Pointer()).Name()
	i := strings.LastIndex(full, ".")
	if i < 0 {
		t.Fatalf("cannot name the function %q", full)
	}
	return full[:i], full[i+1:]
}

// checkMainStarts fails t unless the main.go at path is a thin main:
// func main() { lambdafn.<start>(<pkg>.Setup) }, importing pkg.
func checkMainStarts(t *testing.T, path, pkg, start string) {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	local := ""
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == pkg {
			local = filepath.Base(pkg)
			if imp.Name != nil {
				local = imp.Name.Name
			}
		}
	}
	if local == "" {
		t.Fatalf("%s does not import %s", path, pkg)
	}
	var calls []string
	for _, d := range f.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || fn.Name.Name != "main" {
			continue
		}
		for _, st := range fn.Body.List {
			call, ok := st.(*ast.ExprStmt)
			if !ok {
				t.Errorf("%s: main does more than start the function", path)
				continue
			}
			calls = append(calls, exprString(call.X))
		}
	}
	if want := "lambdafn." + start + "(" + local + ".Setup)"; !slices.Equal(calls, []string{want}) {
		t.Errorf("%s: main calls %v, want exactly %s", path, calls, want)
	}
}

// exprString renders the few expressions a thin main has: calls of
// selectors.
func exprString(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name
	case *ast.SelectorExpr:
		return exprString(e.X) + "." + e.Sel.Name
	case *ast.CallExpr:
		var args []string
		for _, a := range e.Args {
			args = append(args, exprString(a))
		}
		return exprString(e.Fun) + "(" + strings.Join(args, ", ") + ")"
	}
	return "?"
}

func mustRoot(t *testing.T) string {
	t.Helper()
	root, err := module.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	return root
}
