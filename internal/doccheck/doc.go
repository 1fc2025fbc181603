// Package doccheck has no code of its own: its tests check that every Go
// code block of README.md and docs/*.md compiles, and that the complete
// programs among them build and behave as the text says.
//
// A block that starts with a package clause is a complete file. Any other
// block is compiled as the body of a function, or as top-level
// declarations when it consists of declarations only, with the imports it
// needs inferred from the package names it uses (mcp, protocol, http, ...).
// Elided code is written "{ ... }" or as a line holding only "...", and
// compiles as a panic. Variables and imports left unused are accepted.
//
// An HTML comment right before a block (invisible when the Markdown is
// rendered) gives it context:
//
//	<!-- doccheck
//	var s *mcp.Server
//	type Hit struct{}
//	-->
//
// declares names the block uses without defining them (top-level Go
// declarations: var, const, type, func), and
//
//	<!-- doccheck: fragment (why) -->
//
// marks a block that is deliberately not Go on its own; such blocks are
// listed by the test and should stay rare.
//
//	<!-- doccheck: embed examples/counterapp -->
//
// before a complete program gives it the files of that directory, for its
// //go:embed directives.
package doccheck
