package config

import (
	"os"
	"sort"
	"strings"

	"github.com/gosupervisor/gosupervisor/internal/pyint"
	"github.com/gosupervisor/gosupervisor/internal/pyrepr"
)

// processesFromSection is ServerOptions.processes_from_section: errors get
// the section and file suffix.
func (l *loader) processesFromSection(section, groupName string) ([]*Process, error) {
	procs, err := l.processes(section, groupName)
	if err != nil {
		file, ok := l.parser.sectionToFile[section]
		if !ok {
			file = l.configfile
		}
		return nil, errorf(err.Error() + " in section " + pyrepr.Str(section) + " (file: " + pyrepr.Str(file) + ")")
	}
	return procs, nil
}

func (l *loader) processes(section, groupName string) ([]*Process, error) {
	programName, err := processOrGroupName(strings.SplitN(section, ":", 2)[1])
	if err != nil {
		return nil, err
	}
	common := newProcExpansions()
	common.setStr("here", l.here)
	common.setStr("program_name", programName)
	common.setStr("host_node_name", l.hostname)
	common.setStr("group_name", groupName)
	// get is the nested get(): a fresh dict (or the caller's) updated with
	// common, then saneget.
	get := func(opt string, def *string, doExpand bool) (string, bool, error) {
		return l.saneget(section, opt, def, common, doExpand)
	}
	getv := func(opt, def string) (string, error) {
		v, _, err := get(opt, &def, true)
		return v, err
	}
	// p stays on the stack (a table of &p's fields made it escape: 576
	// bytes per program); each process gets its copy q below.
	p := Process{Program: programName, Section: section}
	if p.Priority, err = optAs(getv, "priority", "999", integer); err != nil {
		return nil, err
	}
	if p.Autostart, err = optAs(getv, "autostart", "true", boolean); err != nil {
		return nil, err
	}
	if p.Autorestart, err = optAs(getv, "autorestart", "unexpected", autoRestart); err != nil {
		return nil, err
	}
	if p.Startsecs, err = optAs(getv, "startsecs", "1", integer); err != nil {
		return nil, err
	}
	if p.Startretries, err = optAs(getv, "startretries", "3", integer); err != nil {
		return nil, err
	}
	if p.Stopsignal, err = optAs(getv, "stopsignal", "TERM", signalNumber); err != nil {
		return nil, err
	}
	if p.Stopwaitsecs, err = optAs(getv, "stopwaitsecs", "10", integer); err != nil {
		return nil, err
	}
	if p.Stopasgroup, err = optAs(getv, "stopasgroup", "false", boolean); err != nil {
		return nil, err
	}
	killDef := "false"
	if p.Stopasgroup {
		killDef = "true"
	}
	if p.Killasgroup, err = optAs(getv, "killasgroup", killDef, boolean); err != nil {
		return nil, err
	}
	if p.Exitcodes, err = optAs(getv, "exitcodes", "0", listOfExitcodes); err != nil {
		return nil, err
	}
	if p.RedirectStderr, err = optAs(getv, "redirect_stderr", "false", boolean); err != nil {
		return nil, err
	}
	numprocs, err := optAs(getv, "numprocs", "1", integer)
	if err != nil {
		return nil, err
	}
	numprocsStart, err := optAs(getv, "numprocs_start", "0", integer)
	if err != nil {
		return nil, err
	}
	environmentStr, _, err := get("environment", str(""), false)
	if err != nil {
		return nil, err
	}
	for _, c := range []struct {
		ch  string
		dst *LogConfig
	}{{"stdout", &p.Stdout}, {"stderr", &p.Stderr}} {
		if c.dst.CaptureMaxbytes, err = optAs(getv, c.ch+"_capture_maxbytes", "0", byteSize); err != nil {
			return nil, err
		}
		if c.dst.EventsEnabled, err = optAs(getv, c.ch+"_events_enabled", "false", boolean); err != nil {
			return nil, err
		}
	}
	serverURL, ok, err := get("serverurl", nil, true)
	if err != nil {
		return nil, err
	}
	p.ServerURL = serverURL
	if !ok || (serverURL != "" && strings.ToUpper(pyint.Strip(serverURL)) == "AUTO") {
		p.ServerURL = "AUTO"
	}
	userName, hasUser, err := get("user", nil, true)
	if err != nil {
		return nil, err
	}
	if hasUser {
		if p.User, err = resolveUser(userName); err != nil {
			return nil, err
		}
	}
	umask, hasUmask, err := get("umask", nil, true)
	if err != nil {
		return nil, err
	}
	if hasUmask {
		m, err := octalType(umask)
		if err != nil {
			return nil, err
		}
		fm := os.FileMode(m)
		p.Umask = &fm
	}
	rawName, _, err := get("process_name", str("%(program_name)s"), false)
	if err != nil {
		return nil, err
	}
	processName, err := processOrGroupName(rawName)
	if err != nil {
		return nil, err
	}
	if numprocs > 1 && !strings.Contains(processName, "%(process_num)") {
		return nil, errorf("%(process_num) must be present within process_name when numprocs > 1")
	}
	if p.Lifecycle, err = l.lifecycle(getv); err != nil {
		return nil, err
	}
	if p.Stopasgroup && !p.Killasgroup {
		return nil, errorf("Cannot set stopasgroup=true and killasgroup=false")
	}

	if l.maxProcs > 0 && numprocs > l.maxProcs {
		return nil, errorf("numprocs over the fuzzing limit")
	}
	var out []*Process
	exps := common // Python aliases the dict and keeps updating it
	for num := numprocsStart; num < numprocs+numprocsStart; num++ {
		exps.setInt("process_num", num)
		exps.setInt("numprocs", numprocs)
		exps.updateEnv(l.envExp)
		envStr, err := expand(environmentStr, exps, "environment")
		if err != nil {
			return nil, err
		}
		env, err := dictOfKeyValuePairs(envStr)
		if err != nil {
			return nil, err
		}
		for _, kv := range env {
			exps.setStr("ENV_"+kv.Key, kv.Value)
		}
		q := p
		q.Exitcodes = append([]int(nil), p.Exitcodes...)
		q.Environment = env
		dir, _, err := get("directory", nil, true)
		if err != nil {
			return nil, err
		}
		q.Directory = dir
		if q.Probes, err = readProbes(getv); err != nil {
			return nil, err
		}
		for _, c := range []struct {
			ch  string
			dst *LogConfig
		}{{"stdout", &q.Stdout}, {"stderr", &q.Stderr}} {
			key := c.ch + "_logfile"
			val, found, err := get(key, nil, true)
			if err != nil {
				return nil, err
			}
			kind := logfileAuto
			path := ""
			if found {
				if val, err = expand(val, exps, key); err != nil {
					return nil, err
				}
				if kind, path, err = l.fs.logfileName(val); err != nil {
					return nil, err
				}
			}
			if c.dst.Backups, err = optAs(getv, c.ch+"_logfile_backups", "10", integer); err != nil {
				return nil, err
			}
			if c.dst.Maxbytes, err = optAs(getv, c.ch+"_logfile_maxbytes", "50MB", byteSize); err != nil {
				return nil, err
			}
			if c.dst.Syslog, err = optAs(getv, c.ch+"_syslog", "false", boolean); err != nil {
				return nil, err
			}
			if err := readChannelLogOptions(getv, c.ch, c.dst); err != nil {
				return nil, err
			}
			if kind == logfileSyslog {
				l.cfg.Warnings = append(l.cfg.Warnings, "For ["+section+"], "+key+
					"=syslog but this is deprecated and will be removed.  Use "+c.ch+"_syslog=true to enable syslog instead.")
				kind = logfileNone
				c.dst.Syslog = true
			}
			if kind == logfileAuto && c.dst.Maxbytes == 0 {
				l.cfg.Warnings = append(l.cfg.Warnings, "For ["+section+"], AUTO logging used for "+key+
					" without rollover, set maxbytes > 0 to avoid filling up filesystem unintentionally")
			}
			switch kind {
			case logfileAuto:
				c.dst.File = LogAuto
			case logfilePath:
				c.dst.File = path
			default:
				c.dst.File = LogNone
			}
		}
		if q.RedirectStderr {
			if q.Stderr.File != LogAuto && q.Stderr.File != LogNone {
				l.cfg.Warnings = append(l.cfg.Warnings, "For ["+section+"], redirect_stderr=true but stderr_logfile has also been set to a filename, the filename has been ignored")
			}
			q.Stderr.File = LogNone
		}
		command, ok, err := l.saneget(section, "command", nil, exps, true)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, errorf("program section " + section + " does not specify a command")
		}
		q.Command = command
		if q.Name, err = expand(processName, exps, "process_name"); err != nil {
			return nil, err
		}
		out = append(out, &q)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Priority != out[j].Priority {
			return out[i].Priority < out[j].Priority
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}
