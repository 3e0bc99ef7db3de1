// Command sfsim serves a simulated Salesforce org: OAuth and SOAP login,
// the REST API subset sfsap uses, and Account Change Data Capture over
// CometD. It backs the compose demo and keeps its data in memory only.
//
// With --accounts it loads Accounts from a JSON file (an array of field
// maps, such as services/allinone/demodata/accounts.json) as if a sales rep
// created them. With --convert-after it later turns every prospect among
// them into a customer, so the pipeline has conversions to sync.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/sfsap/sfsap/pkg/account"
	"github.com/sfsap/sfsap/pkg/sfid"
	"github.com/sfsap/sfsap/pkg/sfsim"
)

// salesRep is the user the loaded Accounts and their conversions are
// attributed to, so their change events do not look like sfsap's own.
var salesRep = mustID18("005Hx00000RepUs")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "sfsim:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, logOut io.Writer) error {
	fs := flag.NewFlagSet("sfsim", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8081", "address to listen on; use :8081 inside a container")
	baseURL := fs.String("base-url", "", "URL that clients reach the simulator under, returned as instance_url (default http://<addr>)")
	clientID := fs.String("client-id", "sfsim-client", "OAuth consumer key that the client credentials flow accepts")
	clientSecret := fs.String("client-secret", "sfsim-secret", "OAuth consumer secret that the client credentials flow accepts")
	username := fs.String("username", "integration@sfsap.example", "integration user name for the password flows")
	password := fs.String("password", "sfsim-password", "integration user password for the password flows")
	accountsFile := fs.String("accounts", "", "JSON file with an array of Account field maps to create at start")
	convertAfter := fs.Duration("convert-after", 0, "after this delay, change the Type of every loaded prospect to a customer value (0 turns it off)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(logOut, nil)).With("service", "sfsim")

	srv := sfsim.New(sfsim.Options{
		ClientID:     *clientID,
		ClientSecret: *clientSecret,
		Username:     *username,
		Password:     *password,
		BaseURL:      *baseURL,
		Logger:       log,
	})
	srv.Handle("/cometd/", sfsim.NewCometD(srv.Store(), sfsim.CometDOptions{
		Authorize: func(r *http.Request) error {
			_, err := srv.CheckToken(r)
			return err
		},
	}))
	srv.Handle("GET /healthz", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	}))

	var ids []string
	if *accountsFile != "" {
		var err error
		if ids, err = loadAccounts(srv.Store(), *accountsFile); err != nil {
			return err
		}
		log.Info("sfsim: accounts loaded", "file", *accountsFile, "accounts", len(ids))
	}
	if err := srv.Start(*addr); err != nil {
		return err
	}
	defer srv.Close()
	log.Info("sfsim: serving", "url", srv.URL())

	if *convertAfter > 0 && len(ids) > 0 {
		go func() {
			select {
			case <-time.After(*convertAfter):
			case <-ctx.Done():
				return
			}
			n, err := convertProspects(srv.Store(), ids)
			if err != nil {
				log.Error("sfsim: converting accounts failed", "error", err)
				return
			}
			log.Info("sfsim: prospects converted to customers", "accounts", n)
		}()
	}
	<-ctx.Done()
	log.Info("sfsim: stopping")
	return nil
}

// loadAccounts creates one Account per field map in the JSON file and
// returns their ids.
func loadAccounts(store *sfsim.Store, path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading accounts: %w", err)
	}
	var records []map[string]any
	if err := json.Unmarshal(data, &records); err != nil {
		return nil, fmt.Errorf("decoding accounts in %s: %w: want a JSON array of objects of Account fields", path, err)
	}
	ids := make([]string, 0, len(records))
	for i, fields := range records {
		id, err := store.Create(fields, sfsim.WriteOptions{User: salesRep})
		if err != nil {
			return nil, fmt.Errorf("creating account %d of %s: %w", i+1, path, err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// convertProspects sets the Type of each prospect among ids to a customer
// value, taking the default customer values in turn, and returns how many
// it changed.
func convertProspects(store *sfsim.Store, ids []string) (int, error) {
	n := 0
	for _, id := range ids {
		rec, ok := store.Get(id)
		if !ok {
			continue
		}
		typ, _ := rec["Type"].(string)
		if !slices.Contains(account.DefaultProspectTypes, typ) {
			continue
		}
		target := account.DefaultCustomerTypes[n%len(account.DefaultCustomerTypes)]
		if err := store.Update(id, map[string]any{"Type": target}, sfsim.WriteOptions{User: salesRep}); err != nil {
			return n, fmt.Errorf("converting account %s: %w", id, err)
		}
		n++
	}
	return n, nil
}

func mustID18(id15 string) string {
	id, err := sfid.To18(id15)
	if err != nil {
		panic(errors.New("sales rep id: " + err.Error()))
	}
	return id
}
