package main

import (
	"slices"
	"testing"
)

func TestParseList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    []int
		wantErr bool
	}{
		{"1,4,16", []int{1, 4, 16}, false},
		{" 2 , 8 ,", []int{2, 8}, false},
		{"4", []int{4}, false},
		{"", nil, true},
		{"1,x", nil, true},
		{"0", nil, true},
		{"-3", nil, true},
	}
	for _, tt := range tests {
		got, err := parseList(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseList(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("parseList(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestRunRejectsArguments(t *testing.T) {
	t.Parallel()
	if err := run(t.Context(), []string{"extra"}); err == nil {
		t.Fatal("run(extra) error = nil, want an error about the argument")
	}
	if err := run(t.Context(), []string{"-concurrency", "0"}); err == nil {
		t.Fatal("run(-concurrency 0) error = nil, want an error")
	}
}
