package main

import (
	"sort"
	"strings"
)

// helpTopics holds the help_<topic> texts of DefaultControllerPlugin, one
// output() call per entry.
var helpTopics = map[string][]string{
	"tail": {"tail [-f] <name> [stdout|stderr] (default stdout)\n" +
		"Ex:\n" +
		"tail -f <name>\t\tContinuous tail of named process stdout\n" +
		"\t\t\tCtrl-C to exit.\n" +
		"tail -100 <name>\tlast 100 *bytes* of process stdout\n" +
		"tail <name> stderr\tlast 1600 *bytes* of process stderr"},
	"maintail": {"maintail -f \tContinuous tail of supervisor main log file" +
		" (Ctrl-C to exit)\n" +
		"maintail -100\tlast 100 *bytes* of supervisord main log file\n" +
		"maintail\tlast 1600 *bytes* of supervisor main log file\n"},
	"quit": {"quit\tExit the supervisor shell."},
	"exit": {"exit\tExit the supervisor shell."},
	"status": {"status <name>\t\tGet status for a single process",
		"status <gname>:*\tGet status for all processes in a group",
		"status <name> <name>\tGet status for multiple named processes",
		"status\t\t\tGet all process status info"},
	"pid": {"pid\t\t\tGet the PID of supervisord.",
		"pid <name>\t\tGet the PID of a single child process by name.",
		"pid all\t\t\tGet the PID of every child process, one per line."},
	"start": {"start <name>\t\tStart a process",
		"start <gname>:*\t\tStart all processes in a group",
		"start <name> <name>\tStart multiple processes or groups",
		"start all\t\tStart all processes"},
	"stop": {"stop <name>\t\tStop a process",
		"stop <gname>:*\t\tStop all processes in a group",
		"stop <name> <name>\tStop multiple processes or groups",
		"stop all\t\tStop all processes"},
	"signal": {"signal <signal name> <name>\t\tSignal a process",
		"signal <signal name> <gname>:*\t\tSignal all processes in a group",
		"signal <signal name> <name> <name>\tSignal multiple processes or groups",
		"signal <signal name> all\t\tSignal all processes"},
	"restart": {"restart <name>\t\tRestart a process",
		"restart <gname>:*\tRestart all processes in a group",
		"restart <name> <name>\tRestart multiple processes or groups",
		"restart all\t\tRestart all processes",
		"Note: restart does not reread config files. For that, see reread and update."},
	"shutdown": {"shutdown \tShut the remote supervisord down."},
	"reload":   {"reload \t\tRestart the remote supervisord."},
	"avail":    {"avail\t\t\tDisplay all configured processes"},
	"reread":   {"reread \t\t\tReload the daemon's configuration files without add/remove"},
	"add":      {"add <name> [...]\tActivates any updates in config for process/group"},
	"remove":   {"remove <name> [...]\tRemoves process/group from active config"},
	"update": {"update\t\t\tReload config and add/remove as necessary, and will restart affected programs",
		"update all\t\tReload config and add/remove as necessary, and will restart affected programs",
		"update <gname> [...]\tUpdate specific groups"},
	"clear": {"clear <name>\t\tClear a process' log files.",
		"clear <name> <name>\tClear multiple process' log files",
		"clear all\t\tClear all process' log files"},
	"open": {"open <url>\tConnect to a remote supervisord process.",
		"\t\t(for UNIX domain socket, use unix:///socket/path)"},
	"version": {"version\t\t\tShow the version of the remote supervisord process"},
	"fg": {"fg <process>\tConnect to a process in foreground mode",
		"\t\tCtrl-C to exit"},
}

// gosupHelpTopics are the help texts of gosupervisor's own commands;
// "help" alone lists only Python's, so its output stays Python's.
var gosupHelpTopics = map[string][]string{
	"health": {"health [--json]\t\tHealth of every process (gosupervisor namespace)",
		"health <name> <gname>:*\tHealth of some processes or groups",
		"Columns: ready, healthy, restarts, RSS, CPU, last check and error.",
		"Exit status 3 if one is not healthy, 4 for an unknown name."},
	"rotate": {"rotate <name> [...]\tRotate the log files of processes now",
		"rotate <gname>:*\tRotate a group's log files",
		"rotate all\t\tRotate every process's log files",
		"rotate main\t\tRotate supervisord's own log file"},
	"upgrade": {"upgrade\t\t\tRe-execute supervisord from its binary on disk, keeping every",
		"\t\t\tprogram running (after a package upgrade)"},
	"top": {"top\t\t\tFull-screen live view of every process, updated every second",
		"Keys: up/down or k/j select, s start, x stop, r restart, t tail stdout,",
		"      o cycle the sort (name, state, uptime, restarts, cpu, mem), O reverse it,",
		"      q or Ctrl-C quit."},
}

func showHelp(c *controller, topic string) {
	lines, ok := helpTopics[topic]
	if !ok {
		lines = gosupHelpTopics[topic]
	}
	for _, l := range lines {
		c.output(l)
	}
}

// noArgsAllowed answers a command that takes no arguments but got some:
// the error, the generic exit status and the command's help. It reports
// whether it did.
func noArgsAllowed(c *controller, cmd, arg string) bool {
	if arg == "" {
		return false
	}
	c.output("Error: " + cmd + " accepts no arguments")
	c.exitStatus = exitGeneric
	showHelp(c, cmd)
	return true
}

func helpSignal(c *controller)   { showHelp(c, "signal") }
func helpRestart(c *controller)  { showHelp(c, "restart") }
func helpClear(c *controller)    { showHelp(c, "clear") }
func helpTail(c *controller)     { showHelp(c, "tail") }
func helpMaintail(c *controller) { showHelp(c, "maintail") }
func helpFg(c *controller)       { showHelp(c, "fg") }

// doHelp is Controller.do_help plus ControllerPluginBase.do_help.
func doHelp(c *controller, arg string) (bool, error) {
	if strings.TrimSpace(arg) == "help" {
		c.output("help\t\tPrint a list of available actions")
		c.output("help <action>\tPrint help for <action>")
		return false, nil
	}
	if arg != "" {
		if _, ok := helpTopics[arg]; ok || gosupHelpTopics[arg] != nil {
			showHelp(c, arg)
		} else {
			c.output("*** No help on " + arg)
		}
		return false, nil
	}
	// every plugin command with a help_ method; "help" itself has none
	// on the plugin, so it is not listed
	var cmds []string
	for topic := range helpTopics {
		cmds = append(cmds, topic)
	}
	sort.Strings(cmds)
	c.output("")
	printTopics(c, "default commands (type help <topic>):", cmds, 80)
	return false, nil
}

// printTopics is cmd.Cmd.print_topics with the "=" ruler.
func printTopics(c *controller, header string, cmds []string, maxcol int) {
	if len(cmds) == 0 {
		return
	}
	c.output(header)
	c.output(strings.Repeat("=", len(header)))
	columnize(c, cmds, maxcol-1)
	c.output("")
}

// columnize is cmd.Cmd.columnize: as few rows as fit displaywidth.
func columnize(c *controller, list []string, displaywidth int) {
	size := len(list)
	if size == 0 {
		c.output("<empty>")
		return
	}
	if size == 1 {
		c.output(list[0])
		return
	}
	nrows, ncols := size, 1
	colwidths := []int{0}
	for rows := 1; rows < size; rows++ {
		cols := (size + rows - 1) / rows
		var widths []int
		total := -2
		for col := 0; col < cols; col++ {
			w := 0
			for row := 0; row < rows; row++ {
				i := row + rows*col
				if i >= size {
					break
				}
				w = max(w, len(list[i]))
			}
			widths = append(widths, w)
			total += w + 2
			if total > displaywidth {
				break
			}
		}
		if total <= displaywidth {
			nrows, ncols, colwidths = rows, cols, widths
			break
		}
	}
	for row := 0; row < nrows; row++ {
		var texts []string
		for col := 0; col < ncols; col++ {
			i := row + nrows*col
			if i >= size {
				texts = append(texts, "")
			} else {
				texts = append(texts, list[i])
			}
		}
		for len(texts) > 0 && texts[len(texts)-1] == "" {
			texts = texts[:len(texts)-1]
		}
		for i := range texts {
			texts[i] = padRight(texts[i], colwidths[i])
		}
		c.output(strings.Join(texts, "  "))
	}
}
