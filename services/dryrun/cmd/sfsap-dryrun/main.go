// Command sfsap-dryrun prints the SAP create request that sfsap would send
// for Salesforce Accounts, or the problems that stop an Account from
// becoming an SAP customer. It reads Salesforce and never calls SAP.
//
//	sfsap-dryrun -config sfsap.yaml                        # every customer Account without an SAP number
//	sfsap-dryrun -config sfsap.yaml -account 001Hx00000ABcDeIAL
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/sfsap/sfsap/pkg/config"
	"github.com/sfsap/sfsap/pkg/mapping"
	"github.com/sfsap/sfsap/pkg/sap/adapters"
	"github.com/sfsap/sfsap/pkg/sfclient"
	"github.com/sfsap/sfsap/services/dryrun"
)

// placeholderSAPURL replaces an empty sap.url, because the dry run
// sends nothing to SAP and the adapters need a URL only to send.
const placeholderSAPURL = "https://sap.invalid"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "sfsap-dryrun:", err)
		os.Exit(1)
	}
}

// accountList collects -account flags, each one id or a comma-separated
// list.
type accountList []string

func (l *accountList) String() string { return strings.Join(*l, ",") }

func (l *accountList) Set(v string) error {
	for _, id := range strings.Split(v, ",") {
		if id = strings.TrimSpace(id); id != "" {
			*l = append(*l, id)
		}
	}
	return nil
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("sfsap-dryrun", flag.ContinueOnError)
	configPath := fs.String("config", "", "path of the YAML configuration file (optional; SFSAP_* environment variables override it)")
	var ids accountList
	fs.Var(&ids, "account", "Salesforce Account id to show, 15 or 18 characters; repeat it or separate ids with commas (default: every customer Account without an SAP number)")
	jsonOut := fs.Bool("json", false, "print one JSON document instead of text")
	raw := fs.Bool("raw", false, "print JSON payloads byte for byte as they would be sent, instead of indented")
	verbose := fs.Bool("v", false, "log as JSON on stderr at info level (default: warnings and errors only)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q: pass Account ids with -account", fs.Args())
	}

	cfg, err := config.Load(*configPath, nil)
	if err != nil {
		return err
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	sfCfg := cfg.Salesforce.Config
	sfCfg.Logger = log
	sf, err := sfclient.New(ctx, sfCfg)
	if err != nil {
		return fmt.Errorf("logging in to Salesforce: %w", err)
	}
	pack, err := mapping.Load(cfg.MappingFiles...)
	if err != nil {
		return err
	}
	sapCfg := cfg.SAP
	if sapCfg.URL == "" {
		sapCfg.URL = placeholderSAPURL
	}
	adapter, err := adapters.New(sapCfg, log)
	if err != nil {
		return err
	}

	_, err = dryrun.Run(ctx, sf, dryrun.Options{
		AccountIDs:    ids,
		CustomerTypes: cfg.Filter.CustomerTypes,
		Fields:        cfg.Salesforce.Fields,
		AdapterName:   cfg.SAP.Adapter,
		Renderer:      adapter,
		Mapper:        pack,
		Out:           os.Stdout,
		JSON:          *jsonOut,
		Raw:           *raw,
	})
	return err
}
