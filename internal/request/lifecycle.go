package request

import (
	"math"
	"strings"
	"unicode/utf8"
)

// The lifecycle policy grammar, as the ECR User Guide's "Lifecycle policy
// properties" defines it.
const (
	lcRules              = "rules"
	lcRulePriority       = "rulePriority"
	lcDescription        = "description"
	lcSelection          = "selection"
	lcAction             = "action"
	lcTagStatus          = "tagStatus"
	lcTagPatternList     = "tagPatternList"
	lcTagPrefixList      = "tagPrefixList"
	lcStorageClass       = "storageClass"
	lcCountType          = "countType"
	lcCountUnit          = "countUnit"
	lcCountNumber        = "countNumber"
	lcType               = "type"
	lcTargetStorageClass = "targetStorageClass"

	tagStatusTagged   = "tagged"
	tagStatusUntagged = "untagged"
	tagStatusAny      = "any"

	countImageCountMoreThan     = "imageCountMoreThan"
	countSinceImagePushed       = "sinceImagePushed"
	countSinceImagePulled       = "sinceImagePulled"
	countSinceImageTransitioned = "sinceImageTransitioned"
	countUnitDays               = "days"

	storageStandard = "standard"
	storageArchive  = "archive"

	actionExpire     = "expire"
	actionTransition = "transition"

	// maxPatternWildcards is how many "*" ECR allows in one tagPatternList
	// entry.
	maxPatternWildcards = 4
)

// parseLifecyclePolicy validates a lifecycle policy, given as JSON text or as
// an object whose scalars may be strings, and returns it as canonical JSON.
// The numeric fields (rulePriority, countNumber) become JSON numbers.
func parseLifecyclePolicy(p *problems, path string, v any) string {
	doc, ok := asDocument(p, path, v)
	if !ok {
		return ""
	}
	before := p.count()
	out := make(map[string]any, 1)
	rulesPath := child(path, lcRules)
	if v, ok := field(doc, lcRules); !ok {
		p.add(rulesPath, "is required")
	} else if list, ok := asList(p, rulesPath, v); ok {
		if len(list) == 0 {
			p.add(rulesPath, "must have at least one rule")
		} else {
			out[lcRules] = parseRules(p, rulesPath, list)
		}
	}
	rejectUnknown(p, path, doc, lcRules)
	if p.count() > before {
		return ""
	}

	text, err := canonicalJSON(out)
	if err != nil {
		p.addf(path, "must be a JSON object: %s", jsonProblem(err))
		return ""
	}
	if n := utf8.RuneCountInString(text); n > MaxLifecyclePolicyLength {
		p.addf(path, "must be at most %d characters as compact JSON (it is %d)",
			MaxLifecyclePolicyLength, n)
		return ""
	}
	return text
}

// parseRules validates the rules of a lifecycle policy.
func parseRules(p *problems, path string, list []any) []any {
	// A rule's priority is checked against the others (unique, and highest
	// for a tagStatus of any), so look at all of them first, quietly.
	priorities := make([]int64, len(list))
	statuses := make([]string, len(list))
	highest := int64(math.MinInt64)
	for i, item := range list {
		rule, _ := item.(map[string]any)
		if n, ok := wholeNumber(rule[lcRulePriority]); ok && n >= 1 && n <= math.MaxInt32 {
			priorities[i] = n
			highest = max(highest, n)
		}
		if sel, ok := rule[lcSelection].(map[string]any); ok {
			statuses[i], _ = sel[lcTagStatus].(string)
		}
	}

	out := make([]any, 0, len(list))
	seen := make(map[int64]int, len(list))
	for i, item := range list {
		rulePath := index(path, i)
		rule, ok := asObject(p, rulePath, item)
		if !ok {
			continue
		}
		outRule := make(map[string]any, 4)

		priorityPath := child(rulePath, lcRulePriority)
		if v, ok := field(rule, lcRulePriority); !ok {
			p.add(priorityPath, "is required")
		} else if n, ok := asInt(p, priorityPath, v, 1, math.MaxInt32); ok {
			first, dup := seen[n]
			switch {
			case dup:
				p.addf(priorityPath, "must be unique; %s has the same priority",
					index(path, first))
			case statuses[i] == tagStatusAny && n < highest:
				p.add(priorityPath, "must be the highest in the policy when"+
					" selection.tagStatus is any")
			default:
				seen[n] = i
			}
			outRule[lcRulePriority] = n
		}

		descriptionPath := child(rulePath, lcDescription)
		if v, ok := field(rule, lcDescription); ok {
			if s, ok := asString(p, descriptionPath, v); ok {
				outRule[lcDescription] = s
			}
		}

		selectionPath := child(rulePath, lcSelection)
		if v, ok := field(rule, lcSelection); !ok {
			p.add(selectionPath, "is required")
		} else if sel, ok := asObject(p, selectionPath, v); ok {
			outRule[lcSelection] = parseSelection(p, selectionPath, sel)
		}

		actionPath := child(rulePath, lcAction)
		if v, ok := field(rule, lcAction); !ok {
			p.add(actionPath, "is required")
		} else if act, ok := asObject(p, actionPath, v); ok {
			outRule[lcAction] = parseAction(p, actionPath, act)
		}

		rejectUnknown(p, rulePath, rule, lcRulePriority, lcDescription, lcSelection, lcAction)
		out = append(out, outRule)
	}
	return out
}

// parseSelection validates a rule's selection.
func parseSelection(p *problems, path string, sel map[string]any) map[string]any {
	out := make(map[string]any, 5)

	statusPath := child(path, lcTagStatus)
	var status string
	if v, ok := field(sel, lcTagStatus); !ok {
		p.add(statusPath, "is required")
	} else if s, ok := asString(p, statusPath, v); ok {
		switch s {
		case tagStatusTagged, tagStatusUntagged, tagStatusAny:
			status = s
			out[lcTagStatus] = s
		default:
			p.add(statusPath, oneOf(tagStatusTagged, tagStatusUntagged, tagStatusAny))
		}
	}

	_, hasPatterns := field(sel, lcTagPatternList)
	_, hasPrefixes := field(sel, lcTagPrefixList)
	patternPath := child(path, lcTagPatternList)
	switch {
	case hasPatterns && status != tagStatusTagged && status != "":
		p.addf(patternPath, "is allowed only when %s is %s", lcTagStatus, tagStatusTagged)
	case hasPatterns:
		if list, ok := tagList(p, patternPath, sel[lcTagPatternList], true); ok {
			out[lcTagPatternList] = list
		}
	case status == tagStatusTagged && !hasPrefixes:
		p.addf(patternPath, "is required when %s is %s, unless %s is given", lcTagStatus,
			tagStatusTagged, lcTagPrefixList)
	}

	prefixPath := child(path, lcTagPrefixList)
	switch {
	case hasPrefixes && status != tagStatusTagged && status != "":
		p.addf(prefixPath, "is allowed only when %s is %s", lcTagStatus, tagStatusTagged)
	case hasPrefixes && hasPatterns:
		p.addf(prefixPath, "cannot be combined with %s", lcTagPatternList)
	case hasPrefixes:
		if list, ok := tagList(p, prefixPath, sel[lcTagPrefixList], false); ok {
			out[lcTagPrefixList] = list
		}
	}

	// storageClass depends on countType, which comes later in field order.
	countType, _ := sel[lcCountType].(string)
	storagePath := child(path, lcStorageClass)
	if v, ok := field(sel, lcStorageClass); ok {
		if s, ok := asString(p, storagePath, v); ok {
			switch {
			case s != storageStandard && s != storageArchive:
				p.add(storagePath, oneOf(storageStandard, storageArchive))
			case countType == countSinceImageTransitioned && s != storageArchive:
				p.addf(storagePath, "must be %s when %s is %s", storageArchive, lcCountType,
					countSinceImageTransitioned)
			case countType != countSinceImageTransitioned && s == storageArchive:
				p.addf(storagePath, "may be %s only when %s is %s", storageArchive,
					lcCountType, countSinceImageTransitioned)
			default:
				out[lcStorageClass] = s
			}
		}
	} else if countType == countSinceImageTransitioned {
		p.addf(storagePath, "is required when %s is %s", lcCountType,
			countSinceImageTransitioned)
	}

	countTypePath := child(path, lcCountType)
	validCountType := false
	if v, ok := field(sel, lcCountType); !ok {
		p.add(countTypePath, "is required")
	} else if s, ok := asString(p, countTypePath, v); ok {
		switch s {
		case countImageCountMoreThan, countSinceImagePushed, countSinceImagePulled,
			countSinceImageTransitioned:
			validCountType = true
			out[lcCountType] = s
		default:
			p.add(countTypePath, oneOf(countImageCountMoreThan, countSinceImagePushed,
				countSinceImagePulled, countSinceImageTransitioned))
		}
	}

	unitPath := child(path, lcCountUnit)
	v, hasUnit := field(sel, lcCountUnit)
	switch {
	case !validCountType:
		if hasUnit {
			asString(p, unitPath, v)
		}
	case countType == countImageCountMoreThan && hasUnit:
		p.addf(unitPath, "is allowed only when %s is %s, %s or %s", lcCountType,
			countSinceImagePushed, countSinceImagePulled, countSinceImageTransitioned)
	case countType == countImageCountMoreThan:
	case !hasUnit:
		p.addf(unitPath, "is required when %s is %s", lcCountType, countType)
	default:
		if s, ok := asString(p, unitPath, v); ok {
			if s != countUnitDays {
				p.add(unitPath, oneOf(countUnitDays))
			} else {
				out[lcCountUnit] = s
			}
		}
	}

	numberPath := child(path, lcCountNumber)
	if v, ok := field(sel, lcCountNumber); !ok {
		p.add(numberPath, "is required")
	} else if n, ok := asInt(p, numberPath, v, 1, math.MaxInt32); ok {
		out[lcCountNumber] = n
	}

	rejectUnknown(p, path, sel, lcTagStatus, lcTagPatternList, lcTagPrefixList,
		lcStorageClass, lcCountType, lcCountUnit, lcCountNumber)
	return out
}

// tagList validates a tagPatternList or tagPrefixList: a non-empty list of
// non-empty strings, patterns with at most four "*" each.
func tagList(p *problems, path string, v any, patterns bool) ([]any, bool) {
	list, ok := asList(p, path, v)
	if !ok {
		return nil, false
	}
	if len(list) == 0 {
		p.add(path, "must have at least one entry")
		return nil, false
	}
	before := p.count()
	out := make([]any, 0, len(list))
	for i, item := range list {
		itemPath := index(path, i)
		s, ok := asString(p, itemPath, item)
		switch {
		case !ok:
		case s == "":
			p.add(itemPath, "must not be empty")
		case patterns && strings.Count(s, "*") > maxPatternWildcards:
			p.addf(itemPath, `must have at most %d "*" wildcards`, maxPatternWildcards)
		default:
			out = append(out, s)
		}
	}
	return out, p.count() == before
}

// parseAction validates a rule's action.
func parseAction(p *problems, path string, act map[string]any) map[string]any {
	out := make(map[string]any, 2)
	typePath := child(path, lcType)
	var kind string
	if v, ok := field(act, lcType); !ok {
		p.add(typePath, "is required")
	} else if s, ok := asString(p, typePath, v); ok {
		switch s {
		case actionExpire, actionTransition:
			kind = s
			out[lcType] = s
		default:
			p.add(typePath, oneOf(actionExpire, actionTransition))
		}
	}

	targetPath := child(path, lcTargetStorageClass)
	v, hasTarget := field(act, lcTargetStorageClass)
	switch {
	case kind == actionTransition && !hasTarget:
		p.addf(targetPath, "is required when %s is %s", lcType, actionTransition)
	case kind == actionExpire && hasTarget:
		p.addf(targetPath, "is allowed only when %s is %s", lcType, actionTransition)
	case hasTarget:
		if s, ok := asString(p, targetPath, v); ok {
			if s != storageArchive {
				p.add(targetPath, oneOf(storageArchive))
			} else {
				out[lcTargetStorageClass] = s
			}
		}
	}

	rejectUnknown(p, path, act, lcType, lcTargetStorageClass)
	return out
}
