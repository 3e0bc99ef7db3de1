package sfsim

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// soqlRecords is a fixed org for query tests. Ids are 18-character Account
// ids; SystemModstamp values repeat, as after a bulk update.
func soqlRecords() []map[string]any {
	at := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			panic(err)
		}
		return t
	}
	return []map[string]any{
		{"Id": "001Hx0000000001IAA", "Name": "Acme", "Type": "Customer - Direct", "SAP_ID__c": nil, "NumberOfEmployees": 120.0, "SystemModstamp": at("2025-04-02T10:15:07Z"), "IsDeleted": false},
		{"Id": "001Hx0000000002IAA", "Name": "beta GmbH", "Type": "Prospect", "SAP_ID__c": "0000104711", "NumberOfEmployees": 8.0, "SystemModstamp": at("2025-04-02T10:15:07Z"), "IsDeleted": false},
		{"Id": "001Hx0000000003IAA", "Name": "Gamma", "Type": "Customer - Channel", "SAP_ID__c": "", "SystemModstamp": at("2025-04-02T10:15:07Z"), "IsDeleted": false},
		{"Id": "001Hx0000000004IAA", "Name": "Delta 50%", "Type": nil, "SAP_ID__c": nil, "NumberOfEmployees": 50.0, "SystemModstamp": at("2025-04-01T08:00:00Z"), "IsDeleted": false},
		{"Id": "001Hx0000000005IAA", "Name": "Epsilon", "Type": "Customer", "SAP_ID__c": "0000104712", "NumberOfEmployees": 5000.0, "SystemModstamp": "2025-04-03T00:00:00.000+0000", "IsDeleted": false},
	}
}

func resolveTestField(name string) (string, bool) {
	for _, f := range []string{"Id", "Name", "Type", "SAP_ID__c", "NumberOfEmployees", "SystemModstamp", "IsDeleted"} {
		if strings.EqualFold(f, name) {
			return f, true
		}
	}
	return "", false
}

func TestSOQLWhere(t *testing.T) {
	t.Parallel()
	tests := []struct {
		where string
		want  []string // last digit of each Id, in result order
	}{
		{"Id = '001Hx0000000001IAA'", []string{"1"}},
		{"Id = '001Hx0000000001'", []string{"1"}},
		{"Id IN ('001Hx0000000002IAA', '001Hx0000000004', '001Hx0000000009IAA')", []string{"2", "4"}},
		{"Id NOT IN ('001Hx0000000002IAA')", []string{"1", "3", "4", "5"}},
		{"Type = 'prospect'", []string{"2"}},
		{"Type IN ('Customer', 'Customer - Direct', 'Customer - Channel')", []string{"1", "3", "5"}},
		{"Type = null", []string{"4"}},
		{"Type != null", []string{"1", "2", "3", "5"}},
		{"SAP_ID__c = null", []string{"1", "3", "4"}},
		{"SAP_ID__c != null", []string{"2", "5"}},
		{"Type != 'Prospect'", []string{"1", "3", "4", "5"}},
		{"SystemModstamp >= 2025-04-02T10:15:07.000Z", []string{"1", "2", "3", "5"}},
		{"SystemModstamp > 2025-04-02T10:15:07Z", []string{"5"}},
		{"SystemModstamp < 2025-04-02T12:15:07+02:00", []string{"4"}},
		{"SystemModstamp <= 2025-04-02T10:15:07.000Z", []string{"1", "2", "3", "4"}},
		{"SystemModstamp > 2025-04-02T10:15:07.000Z OR (SystemModstamp = 2025-04-02T10:15:07.000Z AND Id > '001Hx0000000001IAA')", []string{"2", "3", "5"}},
		{"(Type = 'Prospect' OR Type = 'Customer') AND SAP_ID__c != null", []string{"2", "5"}},
		{"Type LIKE 'Customer%' AND NOT (SAP_ID__c != null)", []string{"1", "3"}},
		{"Name LIKE '%\\%'", []string{"4"}},
		{"Name LIKE 'g_mma'", []string{"3"}},
		{"NumberOfEmployees > 100", []string{"1", "5"}},
		{"NumberOfEmployees <= 50.5", []string{"2", "4"}},
		{"IsDeleted = false", []string{"1", "2", "3", "4", "5"}},
		{"Name = 'beta gmbh' OR Name = 'BETA GMBH'", []string{"2"}},
		{"SystemModstamp >= 2025-04-02", []string{"1", "2", "3", "5"}},
	}
	for _, tt := range tests {
		t.Run(tt.where, func(t *testing.T) {
			t.Parallel()
			q, err := parseSOQL("SELECT Id FROM Account WHERE "+tt.where, resolveTestField)
			if err != nil {
				t.Fatalf("parseSOQL: %v", err)
			}
			got := []string{}
			for _, rec := range q.run(soqlRecords()) {
				id := rec["Id"].(string)
				got = append(got, id[14:15])
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("WHERE %s mismatch (-want +got):\n%s", tt.where, diff)
			}
		})
	}
}

func TestSOQLOrderLimitOffset(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tail string
		want []string
	}{
		{"ORDER BY Name", []string{"1", "2", "4", "5", "3"}},
		{"ORDER BY Name DESC", []string{"3", "5", "4", "2", "1"}},
		{"ORDER BY SystemModstamp, Id", []string{"4", "1", "2", "3", "5"}},
		{"ORDER BY SystemModstamp DESC, Id DESC", []string{"5", "3", "2", "1", "4"}},
		{"ORDER BY Type", []string{"4", "5", "3", "1", "2"}},
		{"ORDER BY Type NULLS LAST", []string{"5", "3", "1", "2", "4"}},
		{"ORDER BY Type DESC", []string{"2", "1", "3", "5", "4"}},
		{"ORDER BY NumberOfEmployees DESC NULLS LAST", []string{"5", "1", "4", "2", "3"}},
		{"ORDER BY SystemModstamp, Id LIMIT 2", []string{"4", "1"}},
		{"ORDER BY SystemModstamp, Id LIMIT 2 OFFSET 2", []string{"2", "3"}},
		{"LIMIT 0", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.tail, func(t *testing.T) {
			t.Parallel()
			q, err := parseSOQL("SELECT Id FROM Account "+tt.tail, resolveTestField)
			if err != nil {
				t.Fatalf("parseSOQL: %v", err)
			}
			got := []string{}
			for _, rec := range q.run(soqlRecords()) {
				got = append(got, rec["Id"].(string)[14:15])
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("%s mismatch (-want +got):\n%s", tt.tail, diff)
			}
		})
	}
}

func TestSOQLParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		soql string
		code string
	}{
		{"SELECT FROM Account", "MALFORMED_QUERY"},
		{"SELECT Id FROM Account WHERE Id IN ()", "MALFORMED_QUERY"},
		{"SELECT Id FROM Account WHERE Id IN ('a' 'b')", "MALFORMED_QUERY"},
		{"SELECT Id FROM Account WHERE (Id = 'a'", "MALFORMED_QUERY"},
		{"SELECT Id FROM Account WHERE Id = 'a' OR Id = 'b' AND Id = 'c'", "MALFORMED_QUERY"},
		{"SELECT Id FROM Account WHERE Name LIKE 5", "MALFORMED_QUERY"},
		{"SELECT Id FROM Account WHERE Name = 'a\\q'", "MALFORMED_QUERY"},
		{"SELECT Id FROM Account WHERE Name ! 'a'", "MALFORMED_QUERY"},
		{"SELECT Id FROM Account WHERE SystemModstamp = TODAY", "MALFORMED_QUERY"},
		{"SELECT Id FROM Account WHERE CreatedDate = null", "INVALID_FIELD"},
		{"SELECT Id FROM Account LIMIT 1.5", "MALFORMED_QUERY"},
		{"SELECT Id FROM Account ORDER BY Name NULLS", "MALFORMED_QUERY"},
		{"SELECT Id FROM Account GROUP BY Name", "MALFORMED_QUERY"},
		{"SELECT Id FROM Account WHERE Name = 'a' extra", "MALFORMED_QUERY"},
		{"SELECT Where FROM Account", "MALFORMED_QUERY"},
		{"SELECT Id FROM Lead", "INVALID_TYPE"},
	}
	for _, tt := range tests {
		t.Run(tt.soql, func(t *testing.T) {
			t.Parallel()
			_, err := parseSOQL(tt.soql, resolveTestField)
			qerr, ok := err.(*queryError)
			if !ok {
				t.Fatalf("parseSOQL(%q) error = %v, want a *queryError", tt.soql, err)
			}
			if qerr.code != tt.code {
				t.Fatalf("parseSOQL(%q) code = %s (%s), want %s", tt.soql, qerr.code, qerr.message, tt.code)
			}
		})
	}
}

func TestSOQLErrorColumn(t *testing.T) {
	t.Parallel()
	_, err := parseSOQL("SELECT Id, Bogus FROM Account", resolveTestField)
	want := "SELECT Id, Bogus FROM Account\n           ^\nERROR at Row:1:Column:12\nNo such column 'Bogus' on entity 'Account'."
	if qerr, ok := err.(*queryError); !ok || !strings.HasPrefix(qerr.message, want) {
		t.Fatalf("parseSOQL error = %v, want a message starting with %q", err, want)
	}
}
