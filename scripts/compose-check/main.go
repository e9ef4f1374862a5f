// compose-check validates compose files with the Compose Specification's own loader (the one
// `docker compose config` uses), so a broken compose.yaml fails CI on a machine with no container
// engine. Arguments are `docker compose`'s project options: -f FILE (repeatable), or none for
// compose.yaml in the working directory.
//
//	compose-check [-f compose.yaml]...
//
// Exit 0 and "valid: <project>" when the files load; exit 1 and "invalid: <reason>" when not.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/compose-spec/compose-go/v2/cli"
)

type files []string

func (f *files) String() string     { return fmt.Sprint(*f) }
func (f *files) Set(v string) error { *f = append(*f, v); return nil }

func main() {
	var paths files
	flag.Var(&paths, "f", "compose file (repeatable; default: compose.yaml in the working directory)")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: compose-check [-f FILE]...")
		os.Exit(2)
	}
	// Consistency on: depends_on naming an undefined service, a volume nobody declares and the like
	// are errors, as they are when the engine would run the file.
	opts, err := cli.NewProjectOptions(paths, cli.WithOsEnv, cli.WithDotEnv, cli.WithDefaultConfigPath, cli.WithConsistency(true))
	if err == nil {
		project, loadErr := opts.LoadProject(context.Background())
		if loadErr == nil {
			fmt.Printf("valid: %s (%d services)\n", project.Name, len(project.ServiceNames()))
			return
		}
		err = loadErr
	}
	fmt.Fprintln(os.Stderr, "invalid:", err)
	os.Exit(1)
}
