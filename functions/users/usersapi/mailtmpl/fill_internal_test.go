package mailtmpl

import (
	"strings"
	"testing"
)

// A typo in a template fails rather than sending an email with a hole.
func TestTemplatesRefuseWhatTheyDoNotKnow(t *testing.T) {
	t.Parallel()
	if _, err := fill("Hello {{organisation}}", map[string]string{"organization": "x"}); err == nil || !strings.Contains(err.Error(), "{{organisation}}") {
		t.Errorf("an unknown placeholder: err %v", err)
	}
	for name, src := range map[string]string{
		"text before a section": "stray\n-- html --\nx",
		"a section twice":       "-- html --\na\n-- html --\nb",
	} {
		if _, err := parseTemplate(src); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	got, err := parseTemplate("# a comment\n-- subject --\nS\n-- text --\nA\n\nB\n")
	if err != nil || got["subject"] != "S" || got["text"] != "A\n\nB" {
		t.Errorf("parseTemplate = %q, %v", got, err)
	}
}
