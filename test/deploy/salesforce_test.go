package deploy

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sfsap/sfsap/pkg/account"
	"github.com/sfsap/sfsap/pkg/sfclient"
	"github.com/sfsap/sfsap/services/writeback"
)

const sfdxRoot = "deploy/salesforce"

const sfdxDefault = sfdxRoot + "/force-app/main/default"

// customField is the part of a .field-meta.xml file the tests read.
type customField struct {
	XMLName   xml.Name `xml:"http://soap.sforce.com/2006/04/metadata CustomField"`
	FullName  string   `xml:"fullName"`
	Label     string   `xml:"label"`
	Type      string   `xml:"type"`
	Length    int      `xml:"length"`
	Precision int      `xml:"precision"`
	Scale     int      `xml:"scale"`
	ValueSet  struct {
		Restricted bool `xml:"restricted"`
		Values     []struct {
			FullName string `xml:"fullName"`
		} `xml:"valueSetDefinition>value"`
	} `xml:"valueSet"`
}

// capacity returns how many characters a text field holds, or 0 for
// other types.
func (f customField) capacity() int {
	switch f.Type {
	case "Text", "LongTextArea", "Html":
		return f.Length
	case "TextArea":
		return 255 // a Text Area's fixed size
	}
	return 0
}

func readField(t *testing.T, name string) (customField, bool) {
	t.Helper()
	path := filepath.Join(repoRoot, sfdxDefault, "objects/Account/fields", name+".field-meta.xml")
	data, err := os.ReadFile(path)
	if err != nil {
		return customField{}, false
	}
	var f customField
	if err := xml.Unmarshal(data, &f); err != nil {
		t.Fatalf("decoding %s: %v", path, err)
	}
	return f, true
}

// fieldRule is what sfsap needs from one Account field.
type fieldRule struct {
	name   string
	check  func(f customField) bool
	want   string
	writes bool
}

func textOf(n int) func(customField) bool {
	return func(f customField) bool { return f.Type == "Text" && f.Length >= n }
}

// fieldRules lists the fields of account.DefaultFields. The lengths of
// the SAP organisational fields are those of the SAP data elements:
// BUKRS and VKORG have 4 characters, VTWEG and SPART 2.
func fieldRules() []fieldRule {
	f := account.DefaultFields()
	reasonLength := writeback.Config{}.WithDefaults().ReasonLength
	return []fieldRule{
		{f.SAPID, textOf(10), "Text of at least 10 characters (an SAP customer number)", true},
		{f.SyncStatus, func(c customField) bool {
			var values []string
			for _, v := range c.ValueSet.Values {
				values = append(values, v.FullName)
			}
			return c.Type == "Picklist" && c.ValueSet.Restricted &&
				slices.Contains(values, account.StatusSynced) && slices.Contains(values, account.StatusFailed) &&
				slices.Contains(values, account.StatusPending)
		}, "a restricted Picklist with Synced, Failed and Pending", true},
		{f.SyncError, func(c customField) bool {
			return (c.Type == "TextArea" || c.Type == "LongTextArea") && c.capacity() >= reasonLength
		}, "a text area holding writeback.reason_length characters", true},
		{f.SyncAttempts, func(c customField) bool { return c.Type == "Number" && c.Scale == 0 && c.Precision >= 2 }, "a whole Number", true},
		{f.LastSync, func(c customField) bool { return c.Type == "DateTime" }, "DateTime", true},
		{f.CorrelationID, textOf(36), "Text of at least 36 characters (a UUID)", true},
		{f.CompanyCode, textOf(4), "Text of at least 4 characters", false},
		{f.SalesOrg, textOf(4), "Text of at least 4 characters", false},
		{f.DistributionChannel, textOf(2), "Text of at least 2 characters", false},
		{f.Division, textOf(2), "Text of at least 2 characters", false},
	}
}

func TestSalesforceFieldsMatchDefaults(t *testing.T) {
	t.Parallel()
	rules := fieldRules()
	for _, r := range rules {
		f, ok := readField(t, r.name)
		if !ok {
			t.Errorf("no field definition for %s", r.name)
			continue
		}
		if f.FullName != r.name {
			t.Errorf("%s.field-meta.xml has fullName %q", r.name, f.FullName)
		}
		if f.Label == "" {
			t.Errorf("%s has no label", r.name)
		}
		if !r.check(f) {
			t.Errorf("%s is %s(%d), want %s", r.name, f.Type, f.Length, r.want)
		}
	}

	// Every default field name that is set has a rule above, and every
	// field file belongs to one.
	d := account.DefaultFields()
	var defaults []string
	for _, name := range []string{d.SAPID, d.SyncStatus, d.SyncError, d.SyncAttempts, d.LastSync, d.CorrelationID,
		d.CompanyCode, d.SalesOrg, d.DistributionChannel, d.Division, d.Language} {
		if name != "" {
			defaults = append(defaults, name)
		}
	}
	files, err := filepath.Glob(filepath.Join(repoRoot, sfdxDefault, "objects/Account/fields/*.field-meta.xml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".field-meta.xml")
		if !slices.Contains(defaults, name) {
			t.Errorf("field %s is not one of account.DefaultFields", name)
		}
	}
	if len(files) != len(defaults) || len(rules) != len(defaults) {
		t.Errorf("%d field files and %d rules for %d default fields", len(files), len(rules), len(defaults))
	}
}

// permissionSet is the part of a .permissionset-meta.xml file the tests
// read.
type permissionSet struct {
	XMLName xml.Name `xml:"http://soap.sforce.com/2006/04/metadata PermissionSet"`
	Label   string   `xml:"label"`
	Fields  []struct {
		Field    string `xml:"field"`
		Editable bool   `xml:"editable"`
		Readable bool   `xml:"readable"`
	} `xml:"fieldPermissions"`
	Objects         []objectPermission `xml:"objectPermissions"`
	UserPermissions []struct {
		Name    string `xml:"name"`
		Enabled bool   `xml:"enabled"`
	} `xml:"userPermissions"`
}

type objectPermission struct {
	Object           string `xml:"object"`
	AllowCreate      bool   `xml:"allowCreate"`
	AllowRead        bool   `xml:"allowRead"`
	AllowEdit        bool   `xml:"allowEdit"`
	AllowDelete      bool   `xml:"allowDelete"`
	ViewAllRecords   bool   `xml:"viewAllRecords"`
	ModifyAllRecords bool   `xml:"modifyAllRecords"`
}

// TestSalesforcePermissionSet checks that the integration user may edit
// every field sfsap writes and read every field it reads, and no more.
func TestSalesforcePermissionSet(t *testing.T) {
	t.Parallel()
	path := filepath.Join(sfdxDefault, "permissionsets/sfsap_Integration.permissionset-meta.xml")
	var ps permissionSet
	if err := xml.Unmarshal([]byte(readRepoFile(t, path)), &ps); err != nil {
		t.Fatalf("decoding %s: %v", path, err)
	}
	for _, r := range fieldRules() {
		found := false
		for _, fp := range ps.Fields {
			if fp.Field != "Account."+r.name {
				continue
			}
			found = true
			if !fp.Readable {
				t.Errorf("permission set does not let the integration user read %s", r.name)
			}
			if fp.Editable != r.writes {
				use := "only reads"
				if r.writes {
					use = "writes"
				}
				t.Errorf("permission set: %s editable = %v, want %v, as sfsap %s it", r.name, fp.Editable, r.writes, use)
			}
		}
		if !found {
			t.Errorf("permission set has no field permission for Account.%s", r.name)
		}
	}
	var acct *objectPermission
	for i := range ps.Objects {
		if ps.Objects[i].Object == "Account" {
			acct = &ps.Objects[i]
		}
	}
	switch {
	case acct == nil:
		t.Errorf("permission set has no object permission for Account")
	case !acct.AllowRead || !acct.AllowEdit || !acct.ViewAllRecords:
		t.Errorf("Account permissions %+v, want read, edit and view all", *acct)
	case acct.AllowCreate || acct.AllowDelete || acct.ModifyAllRecords:
		t.Errorf("Account permissions %+v grant create, delete or modify all, which sfsap never needs", *acct)
	}
	api := false
	for _, up := range ps.UserPermissions {
		if up.Name == "ApiEnabled" && up.Enabled {
			api = true
		}
	}
	if !api {
		t.Errorf("permission set does not enable API access (ApiEnabled)")
	}
}

func TestSalesforceChangeDataCapture(t *testing.T) {
	t.Parallel()
	path := filepath.Join(sfdxDefault, "platformEventChannelMembers/ChangeEvents_AccountChangeEvent.platformEventChannelMember-meta.xml")
	var member struct {
		XMLName        xml.Name `xml:"http://soap.sforce.com/2006/04/metadata PlatformEventChannelMember"`
		EventChannel   string   `xml:"eventChannel"`
		SelectedEntity string   `xml:"selectedEntity"`
	}
	if err := xml.Unmarshal([]byte(readRepoFile(t, path)), &member); err != nil {
		t.Fatalf("decoding %s: %v", path, err)
	}
	if member.EventChannel != "ChangeEvents" || member.SelectedEntity != "AccountChangeEvent" {
		t.Errorf("channel member selects %s on %s, want AccountChangeEvent on ChangeEvents", member.SelectedEntity, member.EventChannel)
	}
}

func TestSalesforceProject(t *testing.T) {
	t.Parallel()
	var project struct {
		PackageDirectories []struct {
			Path    string `json:"path"`
			Default bool   `json:"default"`
		} `json:"packageDirectories"`
		SourceAPIVersion string `json:"sourceApiVersion"`
	}
	if err := json.Unmarshal([]byte(readRepoFile(t, sfdxRoot+"/sfdx-project.json")), &project); err != nil {
		t.Fatalf("decoding sfdx-project.json: %v", err)
	}
	if len(project.PackageDirectories) != 1 || !project.PackageDirectories[0].Default {
		t.Fatalf("packageDirectories = %+v, want one default directory", project.PackageDirectories)
	}
	if dir := project.PackageDirectories[0].Path; filepath.Join(sfdxRoot, dir, "main/default") != sfdxDefault {
		t.Errorf("package directory %s does not hold %s", dir, sfdxDefault)
	}
	if project.SourceAPIVersion != sfclient.DefaultAPIVersion {
		t.Errorf("sourceApiVersion = %s, want the API version sfsap uses, %s", project.SourceAPIVersion, sfclient.DefaultAPIVersion)
	}
	readme := readRepoFile(t, sfdxRoot+"/README.md")
	if !strings.Contains(readme, "sf project deploy start") {
		t.Errorf("README.md does not show sf project deploy start")
	}
}
