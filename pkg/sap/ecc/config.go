package ecc

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/sfsap/sfsap/pkg/sap"
)

// CommitMode selects how a create and its commit run as one unit.
type CommitMode string

const (
	// CommitWrapper calls one Z function module that creates the
	// customer, stores the external reference and commits with
	// COMMIT WORK AND WAIT, or rolls back when the BAPI returned E or A.
	// It needs the Z module on the SAP side, and works over stateless
	// HTTP.
	CommitWrapper CommitMode = "wrapper"
	// CommitSession calls BAPI_CUSTOMER_CREATEFROMDATA1, the Z module that
	// stores the external reference and BAPI_TRANSACTION_COMMIT in one
	// stateful ABAP session. It needs a Caller that implements
	// rfc.SessionCaller and an SAP endpoint that keeps sessions.
	CommitSession CommitMode = "session"
)

// Config configures an Adapter. Zero fields take the defaults named in
// their comments, which WithDefaults applies.
type Config struct {
	// CommitMode is CommitWrapper or CommitSession. Defaults to
	// CommitWrapper.
	CommitMode CommitMode `yaml:"commit_mode"`
	// CreateFunction is the Z module used in wrapper mode. It takes the
	// BAPI's import parameters plus ExternalRefParam and returns
	// CUSTOMERNO and RETURN. Defaults to Z_SFSAP_CUSTOMER_CREATE.
	CreateFunction string `yaml:"create_function"`
	// SetExternalRefFunction is the Z module used in session mode to store
	// the external reference. It takes CUSTOMERNO and ExternalRefParam and
	// returns RETURN. Defaults to Z_SFSAP_SET_EXTERNAL_REF.
	SetExternalRefFunction string `yaml:"set_external_ref_function"`
	// ExternalRefParam is the parameter of both Z modules that carries the
	// external reference. Defaults to EXTERNAL_REF.
	ExternalRefParam string `yaml:"external_ref_param"`
	// ExternalRefTable and ExternalRefField name the field that contains the
	// external reference, searched with BAPI_CUSTOMER_FIND. Default to
	// KNA1 and ZZSFID.
	ExternalRefTable string `yaml:"external_ref_table"`
	ExternalRefField string `yaml:"external_ref_field"`
	// LanguageField is the PI_COMPANYDATA field that carries the language:
	// LANGU_ISO for the ISO 639-1 code, or LANGU for SAP's one-character
	// key. Defaults to LANGU_ISO.
	LanguageField string `yaml:"language_field"`
	// DefaultLanguage is the ISO 639-1 code sent when a customer has no
	// language. Defaults to EN.
	DefaultLanguage string `yaml:"default_language"`
	// ReturnRules decide whether RETURN messages are permanent, transient
	// or harmless. They are tried before sap.DefaultRules.
	ReturnRules []sap.Rule `yaml:"return_rules"`
	// Logger receives the adapter's log lines. Defaults to slog.Default().
	Logger *slog.Logger `yaml:"-"`
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	if c.CommitMode == "" {
		c.CommitMode = CommitWrapper
	}
	def(&c.CreateFunction, "Z_SFSAP_CUSTOMER_CREATE")
	def(&c.SetExternalRefFunction, "Z_SFSAP_SET_EXTERNAL_REF")
	def(&c.ExternalRefParam, "EXTERNAL_REF")
	def(&c.ExternalRefTable, "KNA1")
	def(&c.ExternalRefField, "ZZSFID")
	def(&c.LanguageField, "LANGU_ISO")
	def(&c.DefaultLanguage, "EN")
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate returns an error wrapping ErrInvalidConfig for the first field
// that has an unusable value. Call it after WithDefaults.
func (c Config) Validate() error {
	if c.CommitMode != CommitWrapper && c.CommitMode != CommitSession {
		return fmt.Errorf("commit_mode %q: %w: use %q or %q", c.CommitMode, ErrInvalidConfig, CommitWrapper, CommitSession)
	}
	names := []struct{ key, value string }{
		{"create_function", c.CreateFunction},
		{"set_external_ref_function", c.SetExternalRefFunction},
		{"external_ref_param", c.ExternalRefParam},
		{"external_ref_table", c.ExternalRefTable},
		{"external_ref_field", c.ExternalRefField},
	}
	for _, n := range names {
		if strings.ContainsAny(n.value, " \t<>&\"'") {
			return fmt.Errorf("%s %q: %w: an ABAP name cannot contain blanks or XML characters", n.key, n.value, ErrInvalidConfig)
		}
	}
	if c.LanguageField != "LANGU_ISO" && c.LanguageField != "LANGU" {
		return fmt.Errorf("language_field %q: %w: use LANGU_ISO or LANGU", c.LanguageField, ErrInvalidConfig)
	}
	if _, ok := sapLanguageKeys[strings.ToUpper(c.DefaultLanguage)]; !ok {
		return fmt.Errorf("default_language %q: %w: use a two-letter ISO 639-1 code, such as EN", c.DefaultLanguage, ErrInvalidConfig)
	}
	if _, err := sap.NewClassifier(c.ReturnRules...); err != nil {
		return fmt.Errorf("return_rules: %w: %w", ErrInvalidConfig, err)
	}
	return nil
}
