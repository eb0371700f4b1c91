// Command vcsim-dvmirror is the vCenter simulator dvmirror's integration tests run against:
// govmomi's vcsim (0.24.2, Debian) with an inventory built from a dvmirror lab JSON file,
// real FetchDVPorts, PropertyCollector paging and VSPAN in ReconfigureDvs_Task.
// See README.md next to this file.
package main

import (
	"crypto/sha1"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"log"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

func decodeJSON(raw []byte, v interface{}) error {
	return json.Unmarshal(raw, v)
}

func defaultLab() string {
	// tests/vcsim/main.go -> tui/backends/labs/demo.json, relative to the working directory
	// (the repository root) when the binary does not know where the sources are.
	candidates := []string{"tui/backends/labs/demo.json"}
	if exe, err := os.Executable(); err == nil {
		// tests/vcsim/.build/vcsim-dvmirror -> repository root three levels up
		root := filepath.Dir(filepath.Dir(filepath.Dir(filepath.Dir(exe))))
		candidates = append(candidates, filepath.Join(root, "tui/backends/labs/demo.json"))
	}
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			return c
		}
	}
	return candidates[0]
}

func loopback(hostport string) error {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return err
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%s is not a loopback address; this test server listens on loopback only", host)
	}
	return nil
}

// parseSeconds reads "1.5" as seconds, or a Go duration such as "2s" or "500ms".
func parseSeconds(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(f * float64(time.Second)), nil
	}
	return time.ParseDuration(s)
}

func thumbprint(der []byte) string {
	sum := sha1.Sum(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

func main() {
	labPath := flag.String("lab", "", "lab JSON file (default: tui/backends/labs/demo.json)")
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on (loopback only)")
	useTLS := flag.Bool("tls", false, "serve https with a generated self-signed certificate")
	certOut := flag.String("cert-out", "", "with -tls: write the PEM certificate here (default: a temporary file)")
	user := flag.String("user", "user", "user name to accept")
	password := flag.String("password", "pass", "password to accept")
	delay := flag.Int("delay", 0, "milliseconds added to every SOAP call")
	flag.IntVar(&extraDevices, "devices", 0, "devices per VM, its NICs included, as real VMs have (controllers, disk, CD-ROM, video...; 0: only the NICs)")
	idle := flag.String("session-idle", "0", "expire sessions idle this long: seconds or a Go duration (1.5, 2s, 500ms; 0 = never)")
	stdinEOF := flag.Bool("exit-on-stdin-eof", true, "exit when standard input reaches end of file")
	trace := flag.Bool("trace", false, "log every SOAP request and response to standard error")
	flag.Var(dropShare, "drop", "PORTKEY=SHARE: that port drops this share (0-1) of the mirrored frames it is sent (repeatable)")
	flag.Parse()

	// Catch SIGTERM before anything else, so a signal right after the URL line is not fatal.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)

	log.SetFlags(log.Ltime | log.Lmicroseconds)
	log.SetPrefix("vcsim-dvmirror: ")

	if err := loopback(*listen); err != nil {
		log.Fatal(err)
	}
	if *labPath == "" {
		*labPath = defaultLab()
	}

	start := time.Now()
	l, err := readLab(*labPath)
	if err != nil {
		log.Fatal(err)
	}

	idleTimeout, err := parseSeconds(*idle)
	if err != nil {
		log.Fatalf("-session-idle: %v", err)
	}
	simulator.SessionIdleTimeout = idleTimeout
	if *trace {
		simulator.Trace = true
		simulator.TraceFile = os.Stderr
	}

	model := simulator.VPX()
	model.Datacenter = len(l.Datacenters)
	if model.Datacenter == 0 {
		model.Datacenter = 1
	}
	model.Cluster = 0
	model.ClusterHost = 0
	model.Host = 0
	model.Machine = 0
	model.Portgroup = 0
	model.Datastore = 0
	model.Autostart = false
	// Advertise vCenter 7.0.3: pyVmomi negotiates the API version from vimServiceVersions.xml
	// and drops properties newer than it (6.5 would lose macManagementPolicy and others).
	about := &model.ServiceContent.About
	about.Version = "7.0.3"
	about.Build = "20395099"
	about.FullName = "VMware vCenter Server 7.0.3 build-20395099 (vcsim-dvmirror: " + l.Vcenter + ")"
	about.ApiVersion = "7.0.3.0"
	if err := model.Create(); err != nil {
		log.Fatal(err)
	}

	pc := &PropertyCollector{}
	pc.Self = model.ServiceContent.PropertyCollector
	simulator.Map.Put(pc)
	registerVMOps()  // vMotion and NIC reconnect (vmops.go)
	registerEvents() // QueryEvents with time and user filters (events.go)

	if err := buildLab(l); err != nil {
		log.Fatalf("%s: %v", *labPath, err)
	}
	// Where a client looks for the vCenter's name (vpxd settings of a real vCenter).
	options := simulator.Map.OptionManager()
	options.Setting = append(options.Setting,
		&types.OptionValue{Key: "VirtualCenter.FQDN", Value: l.Vcenter},
		&types.OptionValue{Key: "VirtualCenter.InstanceName", Value: l.Vcenter},
	)
	runtime.GC()
	built := time.Since(start)

	model.Service.Listen = &url.URL{Host: *listen, User: url.UserPassword(*user, *password)}
	var certFile string
	var thumb string
	if *useTLS {
		cert, err := selfSigned()
		if err != nil {
			log.Fatal(err)
		}
		model.Service.TLS = tlsConfig(cert)
		thumb = thumbprint(cert.Certificate[0])
		certFile = *certOut
		if certFile == "" {
			f, err := ioutil.TempFile("", "vcsim-dvmirror-*.pem")
			if err != nil {
				log.Fatal(err)
			}
			certFile = f.Name()
			f.Close()
			defer os.Remove(certFile)
		}
		if err := writePEM(certFile, cert.Certificate[0]); err != nil {
			log.Fatal(err)
		}
	}

	server := model.Service.NewServer()
	// Delay only calls made after the model is built.
	model.DelayConfig.Delay = *delay

	u := url.URL{Scheme: server.URL.Scheme, Host: server.URL.Host, Path: server.URL.Path}
	line, _ := json.Marshal(struct {
		URL        string `json:"url"`
		Thumbprint string `json:"thumbprint"`
		Cert       string `json:"cert"`
	}{u.String(), thumb, certFile})
	fmt.Println(string(line))
	_ = os.Stdout.Sync()
	log.Printf("serving %s (%d hosts, %d switches, %d portgroups, %d ports, %d VMs) built in %.2fs",
		u.String(), len(l.Hosts), len(l.Switches), len(l.Portgroups), len(l.Ports), len(l.Vms), built.Seconds())

	var once sync.Once
	done := make(chan struct{})
	stop := func(why string) {
		once.Do(func() {
			log.Printf("stopping: %s", why)
			close(done)
		})
	}
	go func() { stop((<-signals).String()) }()
	if *stdinEOF {
		go func() {
			_, _ = io.Copy(ioutil.Discard, os.Stdin)
			stop("standard input closed")
		}()
	}
	<-done
	// Close() waits for outstanding requests; do not let a hung client keep us alive.
	closed := make(chan struct{})
	go func() { server.CloseClientConnections(); server.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(2 * time.Second):
	}
	if certFile != "" && *certOut == "" {
		os.Remove(certFile)
	}
	model.Remove()
}
