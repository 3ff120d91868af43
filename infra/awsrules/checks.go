package awsrules

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// text checks a string: its length in characters (from min to max) and,
// when pattern is set, that the whole of it matches.
func text(min, max int, pattern string) func(any) error {
	var re *regexp.Regexp
	if pattern != "" {
		re = regexp.MustCompile(`^(?:` + pattern + `)$`)
	}
	return func(v any) error {
		s, ok := v.(string)
		if !ok {
			return nil // not known yet
		}
		if n := utf8.RuneCountInString(s); n < min || n > max {
			return fmt.Errorf("%d characters, want %d to %d", n, min, max)
		}
		if re != nil && !re.MatchString(s) {
			return fmt.Errorf("does not match %s", re)
		}
		return nil
	}
}

// all combines checks: the first failure is the answer.
func all(checks ...func(any) error) func(any) error {
	return func(v any) error {
		for _, c := range checks {
			if err := c(v); err != nil {
				return err
			}
		}
		return nil
	}
}

// not refuses a string matching pattern, saying why.
func not(pattern, why string) func(any) error {
	re := regexp.MustCompile(pattern)
	return func(v any) error {
		if s, ok := v.(string); ok && re.MatchString(s) {
			return errors.New(why)
		}
		return nil
	}
}

// oneOf checks a number is one of the values given.
func oneOf(values ...int) func(any) error {
	return func(v any) error {
		f, ok := v.(float64)
		if !ok {
			return nil
		}
		if !slices.Contains(values, int(f)) {
			return fmt.Errorf("%v is not one of %v", f, values)
		}
		return nil
	}
}

// between checks a number's range.
func between(min, max float64) func(any) error {
	return func(v any) error {
		f, ok := v.(float64)
		if ok && (f < min || f > max) {
			return fmt.Errorf("%v is not in %v to %v", f, min, max)
		}
		return nil
	}
}

// keys checks every key and value of a map (tags, environment variables).
func keys(key, value func(any) error) func(any) error {
	return func(v any) error {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		for k, x := range m {
			if err := key(k); err != nil {
				return fmt.Errorf("key %q: %w", k, err)
			}
			if value != nil {
				if err := value(x); err != nil {
					return fmt.Errorf("value of %q: %w", k, err)
				}
			}
		}
		return nil
	}
}

// mapSize checks the total size of a map's keys and values in bytes.
func mapSize(max int) func(any) error {
	return func(v any) error {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		n := 0
		for k, x := range m {
			s, _ := x.(string)
			n += len(k) + len(s)
		}
		if n > max {
			return fmt.Errorf("%d bytes, want at most %d", n, max)
		}
		return nil
	}
}

// policyDocument is the part of an IAM policy the rules look at.
type policyDocument struct {
	Statement []struct {
		Sid       string          `json:"Sid"`
		Principal json.RawMessage `json:"Principal"`
	} `json:"Statement"`
}

// policy checks a JSON policy document: its size (counting white space or
// not, as the service counts), statement ids of letters and digits only,
// unique in the document, and, for resource policies, a principal in every
// statement.
func policy(maxChars int, countSpace, needPrincipal bool) func(any) error {
	sid := regexp.MustCompile(`^[A-Za-z0-9]*$`)
	return func(v any) error {
		s, ok := v.(string)
		if !ok {
			return nil
		}
		size := len(s)
		if !countSpace {
			size = len(strings.Join(strings.Fields(s), ""))
		}
		if size > maxChars {
			return fmt.Errorf("%d characters, want at most %d", size, maxChars)
		}
		var doc policyDocument
		if err := json.Unmarshal([]byte(s), &doc); err != nil {
			return fmt.Errorf("not a JSON policy: %w", err)
		}
		seen := map[string]bool{}
		for i, st := range doc.Statement {
			switch {
			case !sid.MatchString(st.Sid):
				return fmt.Errorf("statement %d's Sid %q: only letters and digits", i, st.Sid)
			case st.Sid != "" && seen[st.Sid]:
				return fmt.Errorf("statement %d's Sid %q is not unique in the policy", i, st.Sid)
			case needPrincipal && len(st.Principal) == 0:
				return fmt.Errorf("statement %d has no Principal", i)
			}
			seen[st.Sid] = true
		}
		return nil
	}
}

// each checks every element of a list of objects.
func each(check func(map[string]any) error) func(any) error {
	return func(v any) error {
		list, ok := v.([]any)
		if !ok {
			return nil
		}
		for i, x := range list {
			m, ok := x.(map[string]any)
			if !ok {
				return fmt.Errorf("element %d is not an object", i)
			}
			if err := check(m); err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
		}
		return nil
	}
}
