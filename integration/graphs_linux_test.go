package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// The graph stack of the tests, on loopback in the test's namespace. Not
// carbon's default cache-query port 7002, which a test's sockets may hold.
const (
	carbonLine   = 2003
	carbonPickle = 2004
	carbonQuery  = 17002
	influxHTTP   = 18086
	influxRPC    = 18088
	graphiteWeb  = 18080
)

// graphServices are the services Icinga 2 runs for the graphs: the default
// grouping with plain-number ranges (drawn as levels), the other groupings,
// --top-by's largest entity, and the saturation measures' percents.
var graphServices = []struct{ name, vars string }{
	{"connections", `vars.network_connections_warning = "20"
  vars.network_connections_critical = "50"`},
	{"by-status", `vars.network_connections_group_by = "status"`},
	{"by-type", `vars.network_connections_group_by = "type"`},
	{"total", `vars.network_connections_group_by = "none"
  vars.network_connections_warning = "100"`},
	{"top-by", `vars.network_connections_conn_status = [ "established" ]
  vars.network_connections_top = "3"
  vars.network_connections_top_by = "remote-address"
  vars.network_connections_top_warning = "10"`},
	{"saturation", `vars.network_connections_listen_queue_warning = "90"
  vars.network_connections_port_usage_warning = "90"
  vars.network_connections_conntrack_warning = "90"`},
}

func waitPort(t *testing.T, port int, log string) {
	t.Helper()
	waitFor(t, fmt.Sprintf("a listener on port %d", port), log, func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

func httpGet(t *testing.T, u string) []byte {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s: %.500s", u, resp.Status, b)
	}
	return b
}

// TestGraphs: Icinga 2 runs the check with its GraphiteWriter feeding a real
// carbon-cache and its InfluxdbWriter a real InfluxDB 1.x; then every series
// that the Icinga Web 2 graph template and each Grafana dashboard panel
// query returns points (graphite-web's render API; the panels' InfluxQL),
// and graphite-web renders a PNG.
func TestGraphs(t *testing.T) {
	if !inPrivateNetns(t) {
		return
	}
	icinga2 := need(t, "icinga2", "icinga2-bin")
	carbon := need(t, "carbon-cache", "graphite-carbon")
	manage := need(t, "graphite-manage", "graphite-web")
	influxd := need(t, "influxd", "influxdb")
	socketMix(t)
	dir := t.TempDir()
	mkdirs := func(ds ...string) {
		for _, d := range ds {
			if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := func(name string) string { return filepath.Join(dir, name) }

	// carbon-cache: one point a second kept an hour, and no limit on how
	// many series it creates a minute (50 by default: the rest would wait).
	mkdirs("carbon/whisper", "carbon/log", "carbon/run", "influx/meta", "influx/data", "influx/wal", "icinga", "web/log")
	write("carbon/storage-schemas.conf", "[all]\npattern = .*\nretentions = 1s:1h\n")
	conf := write("carbon/carbon.conf", fmt.Sprintf(`[cache]
STORAGE_DIR = %[1]s/carbon/
LOCAL_DATA_DIR = %[1]s/carbon/whisper/
CONF_DIR = %[1]s/carbon/
LOG_DIR = %[1]s/carbon/log/
PID_DIR = %[1]s/carbon/run/
USER =
MAX_CACHE_SIZE = inf
MAX_UPDATES_PER_SECOND = inf
MAX_CREATES_PER_MINUTE = inf
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = %[2]d
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = %[3]d
CACHE_QUERY_INTERFACE = 127.0.0.1
CACHE_QUERY_PORT = %[4]d
ENABLE_UDP_LISTENER = False
WHISPER_AUTOFLUSH = True
LOG_LISTENER_CONN_SUCCESS = False
`, dir, carbonLine, carbonPickle, carbonQuery))
	startCore(t, p("carbon"), carbon, "--config="+conf, "--nodaemon", "--logdir="+p("carbon/log"), "--pidfile="+p("carbon/run/carbon.pid"), "start")
	waitPort(t, carbonLine, p("carbon/daemon.log"))

	// InfluxDB 1.x, its HTTP API on loopback, nothing reported home.
	influxConf := write("influx/influxdb.conf", fmt.Sprintf(`reporting-disabled = true
bind-address = "127.0.0.1:%[2]d"
[meta]
  dir = "%[1]s/influx/meta"
[data]
  dir = "%[1]s/influx/data"
  wal-dir = "%[1]s/influx/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:%[3]d"
  log-enabled = false
[monitor]
  store-enabled = false
`, dir, influxRPC, influxHTTP))
	startCore(t, p("influx"), influxd, "run", "-config", influxConf)
	waitPort(t, influxHTTP, p("influx/daemon.log"))
	influx := func(q string) []byte {
		t.Helper()
		resp, err := http.PostForm(fmt.Sprintf("http://127.0.0.1:%d/query?db=icinga2", influxHTTP), url.Values{"q": {q}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("InfluxQL %q: %s: %s", q, resp.Status, b)
		}
		return b
	}
	influx("CREATE DATABASE icinga2")

	// Icinga 2 with both writers and the services.
	plugins := pluginsDir(t)
	var c strings.Builder
	fmt.Fprintf(&c, "include <itl>\nconst PluginDir = %q\ninclude %q\n", plugins, filepath.Join(repo, "contrib/icinga2/network-connections.conf"))
	fmt.Fprintf(&c, "object CheckerComponent \"checker\" {}\n")
	fmt.Fprintf(&c, "object GraphiteWriter \"graphite\" {\n  host = \"127.0.0.1\"\n  port = %d\n  enable_send_thresholds = true\n}\n", carbonLine)
	fmt.Fprintf(&c, "object InfluxdbWriter \"influxdb\" {\n  host = \"127.0.0.1\"\n  port = %d\n  database = \"icinga2\"\n  flush_threshold = 1024\n  flush_interval = 1s\n  enable_send_thresholds = true\n}\n", influxHTTP)
	fmt.Fprintf(&c, "object Host \"test\" {\n  check_command = \"dummy\"\n  enable_active_checks = false\n}\n")
	for _, s := range graphServices {
		fmt.Fprintf(&c, "object Service %q {\n  host_name = \"test\"\n  check_command = \"network-connections\"\n  check_interval = 1s\n  retry_interval = 1s\n  %s\n}\n", s.name, s.vars)
	}
	icingaConf := write("icinga/icinga2.conf", c.String())
	startIcinga2(t, p("icinga"), append([]string{icinga2, "daemon", "-c", icingaConf}, icingaDirs(p("icinga"), coreUser())...)...)

	// graphite-web, with settings of its own (the machine's /etc/graphite
	// is not read), served by Django on loopback.
	mkdirs("web/py")
	write("web/py/nc_graphite_settings.py", fmt.Sprintf(`SECRET_KEY = "network-connections-test"
GRAPHITE_ROOT = "/usr/share/graphite-web"
CONF_DIR = %[1]q
STORAGE_DIR = %[1]q
WHISPER_DIR = %[2]q
LOG_DIR = %[3]q
INDEX_FILE = %[4]q
STATIC_ROOT = "/usr/share/graphite-web/static"
CARBONLINK_HOSTS = ["127.0.0.1:%[5]d:a"]
DATABASES = {"default": {"NAME": %[6]q, "ENGINE": "django.db.backends.sqlite3"}}
TAGDB = ""
`, p("web"), p("carbon/whisper")+"/", p("web/log"), p("web/index"), carbonQuery, p("web/graphite.db")))
	t.Setenv("GRAPHITE_SETTINGS_MODULE", "nc_graphite_settings")
	t.Setenv("PYTHONPATH", p("web/py"))
	if out, err := exec.Command(manage, "migrate", "--noinput").CombinedOutput(); err != nil {
		t.Fatalf("graphite-manage migrate: %v\n%s", err, out)
	}
	startCore(t, p("web"), manage, "runserver", "--noreload", fmt.Sprintf("127.0.0.1:%d", graphiteWeb))
	waitPort(t, graphiteWeb, p("web/daemon.log"))
	webURL := fmt.Sprintf("http://127.0.0.1:%d", graphiteWeb)

	// render returns the series of a Graphite target over the last minutes.
	render := func(target string) []graphiteSeries {
		t.Helper()
		var series []graphiteSeries
		b := httpGet(t, webURL+"/render?format=json&from=-10min&target="+url.QueryEscape(target))
		if err := json.Unmarshal(b, &series); err != nil {
			t.Fatalf("render %s: %v: %.300s", target, err, b)
		}
		return series
	}
	// expand lists what a pattern names in Graphite: the metrics (leaves),
	// as the graph module's query finds them, or every node, as a Grafana
	// variable's query lists them.
	expand := func(query string, leavesOnly bool) []string {
		t.Helper()
		var r struct {
			Results []string `json:"results"`
		}
		leaves := "0"
		if leavesOnly {
			leaves = "1"
		}
		b := httpGet(t, webURL+"/metrics/expand?leavesOnly="+leaves+"&query="+url.QueryEscape(query))
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("expand %s: %v: %.300s", query, err, b)
		}
		sort.Strings(r.Results)
		return r.Results
	}
	find := func(query string) []string { return expand(query, true) }
	prefix := func(service string) string { return "icinga2.test.services." + service + ".network-connections" }

	// Every service's perfdata, through both writers, with the levels.
	waitFor(t, "points of every service in Graphite and InfluxDB", p("icinga/daemon.log"), func() bool {
		for _, s := range graphServices {
			if len(find(prefix(s.name)+".perfdata.*.value")) == 0 {
				return false
			}
			var r influxResult
			json.Unmarshal(influx(fmt.Sprintf(`SELECT count("value") FROM "network-connections" WHERE "service" = '%s'`, s.name)), &r)
			if len(r.Results) == 0 || len(r.Results[0].Series) == 0 {
				return false
			}
		}
		return len(find(prefix("connections")+".perfdata.tcp_ESTABLISHED.warn")) > 0
	})
	time.Sleep(3 * time.Second) // a few points more
	if os.Getenv("NC_GRAPH_PNG") != "" {
		graphWaves(t, 150*time.Second)
	}

	t.Run("icingaweb2 graph template", func(t *testing.T) {
		templates := readGraphTemplates(t, filepath.Join(repo, "contrib/icingaweb2-module-graphite/templates/network-connections.ini"))
		macro := regexp.MustCompile(`\$([a-z_]+)(?::([^$]*))?\$`)
		// Each graph: the curves whose metric exists, as the module finds
		// them, each rendered with its function, with points.
		charts := map[string]int{} // template -> curves with points
		for _, s := range graphServices {
			stored := find(prefix(s.name) + ".perfdata.*.*")
			for _, tpl := range templates {
				// Ours and the Director basket's commands, Linux and Windows.
				if tpl.command != "network-connections, network-connections-windows, cmd-check-network-connections, cmd-check-network-connections-windows" {
					t.Errorf("%s: check_command %q", tpl.name, tpl.command)
				}
				for _, cv := range tpl.curves {
					query := strings.ReplaceAll(cv.filter, "$service_name_template$", prefix(s.name))
					var macros []string
					query = macro.ReplaceAllStringFunc(query, func(m string) string {
						sub := macro.FindStringSubmatch(m)
						macros = append(macros, sub[1])
						if sub[2] != "" {
							return sub[2]
						}
						return "*"
					})
					for _, metric := range stored {
						if ok, _ := path.Match(query, metric); !ok {
							continue
						}
						target := strings.ReplaceAll(cv.function, "$metric$", metric)
						for _, name := range macros { // the label the macro stood for
							target = strings.ReplaceAll(target, "$"+name+"$", strings.Split(metric, ".")[6])
						}
						series := render(target)
						if len(series) != 1 || !series[0].hasPoints() {
							t.Errorf("%s, service %s, curve %s: %s: %d series, no points", tpl.name, s.name, cv.name, target, len(series))
							continue
						}
						charts[tpl.name]++
						if strings.HasSuffix(cv.name, ".warn") || strings.HasSuffix(cv.name, ".crit") {
							charts[tpl.name+" levels"]++
						}
					}
				}
			}
		}
		for _, name := range []string{"network-connections-tcp", "network-connections-tcp6", "network-connections-udp", "network-connections-udp6",
			"network-connections-status", "network-connections-type", "network-connections-total", "network-connections-top", "network-connections-saturation",
			"network-connections-tcp levels", "network-connections-total levels", "network-connections-top levels", "network-connections-saturation levels"} {
			if charts[name] == 0 {
				t.Errorf("%s: no curve with points (%v)", name, charts)
			}
		}
		t.Logf("curves with points: %v", charts)
	})

	// What the plugin printed is what the graphs show: every group of the
	// last check has its series.
	t.Run("every group has its series", func(t *testing.T) {
		// The groups of the sockets the test holds (the writers' own
		// connections come and go).
		have := find(prefix("connections") + ".perfdata.*.value")
		for _, label := range []string{"tcp_ESTABLISHED", "tcp_LISTEN", "tcp_CLOSE_WAIT", "tcp_FIN_WAIT2", "tcp6_ESTABLISHED", "tcp6_LISTEN", "udp_NONE", "udp6_NONE"} {
			if !slices.Contains(have, prefix("connections")+".perfdata."+label+".value") {
				t.Errorf("no Graphite series for %s in %q", label, have)
			}
		}
	})

	t.Run("grafana dashboards", func(t *testing.T) {
		// Each panel of each dashboard, run for the service whose grouping it shows.
		serviceOf := map[string]string{
			"tcp sockets by state": "connections", "tcp6 sockets by state": "connections", "udp sockets (NONE)": "connections",
			"udp6 sockets (NONE)": "connections", "by state (--group-by status)": "by-status", "by type (--group-by type)": "by-type",
			"all sockets (--group-by none)": "total", "largest --top-by entity": "top-by",
			"listen queues, ephemeral ports, conntrack (percent)": "saturation",
		}
		for _, kind := range []string{"influxdb", "graphite"} {
			d := readDashboard(t, filepath.Join(repo, "contrib/grafana/network-connections-"+kind+".json"))
			if len(d.Panels) != len(serviceOf) {
				t.Errorf("%s: %d panels, want %d", kind, len(d.Panels), len(serviceOf))
			}
			vars := func(q, service string) string {
				return strings.NewReplacer("$command", "network-connections", "$hostname", "test", "$service", service,
					"$timeFilter", "time > now() - 10m", "$__interval", "1s").Replace(q)
			}
			for _, panel := range d.Panels {
				service, ok := serviceOf[panel.Title]
				if !ok {
					t.Errorf("%s: panel %q unknown to the test", kind, panel.Title)
					continue
				}
				for _, target := range panel.Targets {
					switch kind {
					case "influxdb":
						var r influxResult
						q := vars(target.Query, service)
						if err := json.Unmarshal(influx(q), &r); err != nil || len(r.Results) == 0 || len(r.Results[0].Series) == 0 || r.Results[0].Error != "" {
							t.Errorf("%s panel %q target %s: no series: %q", kind, panel.Title, target.RefID, q)
						}
					case "graphite":
						series := render(vars(target.Target, service))
						if len(series) == 0 || !series[0].hasPoints() {
							t.Errorf("%s panel %q target %s: no points: %q", kind, panel.Title, target.RefID, vars(target.Target, service))
						}
					}
				}
			}
			for _, v := range d.Templating.List {
				if v.Type == "query" {
					q := vars(v.Query, "connections")
					if kind == "influxdb" {
						var r influxResult
						if err := json.Unmarshal(influx(q), &r); err != nil || len(r.Results) == 0 || len(r.Results[0].Series) == 0 {
							t.Errorf("%s variable %s: no values: %q", kind, v.Name, q)
						}
					} else if len(expand(q, false)) == 0 {
						t.Errorf("%s variable %s: no values: %q", kind, v.Name, q)
					}
				}
			}
		}
	})

	t.Run("the original's dashboard query", func(t *testing.T) {
		// Its panels read the field value of the metric tcp_ESTABLISHED.
		var r influxResult
		q := `SELECT mean("value") FROM "network-connections" WHERE "hostname" = 'test' AND "metric" = 'tcp_ESTABLISHED' AND time > now() - 10m GROUP BY time(1s) fill(none)`
		if err := json.Unmarshal(influx(q), &r); err != nil || len(r.Results) == 0 || len(r.Results[0].Series) == 0 {
			t.Errorf("%q: no series", q)
		}
	})

	t.Run("a PNG through graphite-web", func(t *testing.T) {
		tpl := readGraphTemplates(t, filepath.Join(repo, "contrib/icingaweb2-module-graphite/templates/network-connections.ini"))[0]
		q := url.Values{"format": {"png"}, "from": {"-150s"}, "width": {"640"}, "height": {"360"}, "hideLegend": {"false"}, "title": {tpl.params["title"]},
			"areaAlpha": {tpl.params["areaAlpha"]}, "lineWidth": {"2"}, "min": {"0"}, "yUnitSystem": {"none"}}
		for _, cv := range tpl.curves {
			metric := strings.ReplaceAll(cv.filter, "$service_name_template$", prefix("connections"))
			if len(find(metric)) > 0 {
				q.Add("target", strings.ReplaceAll(cv.function, "$metric$", metric))
			}
		}
		png := httpGet(t, webURL+"/render?"+q.Encode())
		if !strings.HasPrefix(string(png), "\x89PNG\r\n") || len(png) < 2000 {
			t.Fatalf("not a PNG graph: %d bytes: %.40q", len(png), png)
		}
		if out := os.Getenv("NC_GRAPH_PNG"); out != "" { // make graph-picture
			if err := os.WriteFile(out, png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	})
}

type graphiteSeries struct {
	Target     string       `json:"target"`
	Datapoints [][]*float64 `json:"datapoints"`
}

func (s graphiteSeries) hasPoints() bool {
	for _, p := range s.Datapoints {
		if len(p) > 0 && p[0] != nil {
			return true
		}
	}
	return false
}

type influxResult struct {
	Results []struct {
		Series []struct {
			Name   string          `json:"name"`
			Values [][]interface{} `json:"values"`
		} `json:"series"`
		Error string `json:"error"`
	} `json:"results"`
}

// graphTemplate is one template of an icingaweb2-module-graphite ini file.
type graphTemplate struct {
	name, command string
	curves        []struct{ name, filter, function string }
	params        map[string]string
}

// readGraphTemplates reads the ini as the module does: sections
// [TEMPLATE.graph], [TEMPLATE.metrics_filters], [TEMPLATE.urlparams],
// [TEMPLATE.functions], each value in double quotes.
func readGraphTemplates(t *testing.T, path string) []graphTemplate {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var order []string
	byName := map[string]*graphTemplate{}
	functions := map[string]map[string]string{}
	var name, topic string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			var ok bool
			if name, topic, ok = strings.Cut(line[1:len(line)-1], "."); !ok {
				t.Fatalf("%s: section %s", path, line)
			}
			if byName[name] == nil {
				byName[name] = &graphTemplate{name: name, params: map[string]string{}}
				functions[name] = map[string]string{}
				order = append(order, name)
			}
		default:
			k, v, ok := strings.Cut(line, "=")
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			if !ok || len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
				t.Fatalf("%s: line %q", path, line)
			}
			v = v[1 : len(v)-1]
			tpl := byName[name]
			switch topic {
			case "graph":
				tpl.command = v
			case "metrics_filters":
				tpl.curves = append(tpl.curves, struct{ name, filter, function string }{k, v, ""})
			case "urlparams":
				tpl.params[k] = v
			case "functions":
				functions[name][k] = v
			default:
				t.Fatalf("%s: topic %q", path, topic)
			}
		}
	}
	var out []graphTemplate
	for _, n := range order {
		tpl := byName[n]
		for i := range tpl.curves {
			fn, ok := functions[n][tpl.curves[i].name]
			if !ok {
				t.Errorf("%s: curve %s has no function", n, tpl.curves[i].name)
				fn = "$metric$"
			}
			tpl.curves[i].function = fn
		}
		out = append(out, *tpl)
	}
	return out
}

// dashboard is what the test reads of a Grafana dashboard.
type dashboard struct {
	Title  string `json:"title"`
	Panels []struct {
		Title   string `json:"title"`
		Targets []struct {
			RefID  string `json:"refId"`
			Query  string `json:"query"`
			Target string `json:"target"`
		} `json:"targets"`
	} `json:"panels"`
	Templating struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query string `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

func readDashboard(t *testing.T, path string) dashboard {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return d
}

// graphWaves makes the sockets change for the README's picture: for d,
// connections opened and closed in waves (TIME_WAIT rising and ebbing) and
// a slowly changing number held open.
func graphWaves(t *testing.T, d time.Duration) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	start := time.Now()
	for i := 0; time.Since(start) < d; i++ {
		wave := int(4 + 4*math.Sin(float64(i)/8))
		for range wave {
			if c, err := net.Dial("tcp4", l.Addr().String()); err == nil {
				c.Close() // the client closes first: TIME_WAIT here
			}
		}
		if want := int(20 + 15*math.Sin(float64(i)/20)); len(held) < want {
			if c, err := net.Dial("tcp4", l.Addr().String()); err == nil {
				held = append(held, c)
			}
		} else if len(held) > want {
			held[len(held)-1].Close()
			held = held[:len(held)-1]
		}
		time.Sleep(time.Second)
	}
}
