// Command stockvcsim runs govmomi's vCenter simulator exactly as the library ships it:
// simulator.VPX(), Model.Create(), Service.NewServer(), no wrappers, no extra types, no fixes.
// It exists because Debian's golang-github-vmware-govmomi-dev (0.24.2) ships the simulator
// library but not the vcsim command. The contract test (tests/integration/test_stock_vcsim.py)
// checks dvmirror against it, so a misreading shared by dvmirror and our own test server
// (tests/vcsim) has a second, independent server to disagree with.
//
// Every model flag sets one simulator.Model field and is named as vcsim names it:
//
//	-dc N              Model.Datacenter   (VPX default 1)
//	-cluster N         Model.Cluster      (VPX default 1)
//	-host N            Model.ClusterHost  (hosts per cluster, VPX default 3)
//	-standalone-host N Model.Host         (VPX default 1)
//	-vm N              Model.Machine      (VMs per resource pool / standalone host, VPX default 2)
//	-pg N              Model.Portgroup    (DVPGs per datacenter, VPX default 1)
//	-ds N              Model.Datastore    (VPX default 1)
//	-autostart         Model.Autostart    (power the VMs on, VPX default true)
//
// The rest is plumbing, not model: -listen (vcsim calls it -l; loopback only here), -tls
// (Service.TLS = new(tls.Config), so httptest's built-in localhost certificate, as vcsim -tls;
// off by default here, on in vcsim), -username/-password (Service.Listen.User; empty = vcsim's
// default of any non-empty user name and password), -trace (simulator.Trace, as vcsim -trace:
// SOAP requests and responses to standard error). On start one JSON line goes to standard
// output: {"url":..., "thumbprint":..., "cert":...} (thumbprint and cert from the library's
// Server.CertificateInfo and Server.CertificateFile). The program exits when standard input
// reaches end of file, or on SIGTERM/SIGINT.
package main

import (
	"crypto/tls"
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
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
)

func loopback(hostport string) error {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%s is not a loopback address; this test server listens on loopback only", host)
	}
	return nil
}

func main() {
	model := simulator.VPX()
	flag.IntVar(&model.Datacenter, "dc", model.Datacenter, "Model.Datacenter: number of datacenters")
	flag.IntVar(&model.Cluster, "cluster", model.Cluster, "Model.Cluster: clusters per datacenter")
	flag.IntVar(&model.ClusterHost, "host", model.ClusterHost, "Model.ClusterHost: hosts per cluster")
	flag.IntVar(&model.Host, "standalone-host", model.Host, "Model.Host: standalone hosts per datacenter")
	flag.IntVar(&model.Machine, "vm", model.Machine, "Model.Machine: VMs per resource pool")
	flag.IntVar(&model.Portgroup, "pg", model.Portgroup, "Model.Portgroup: distributed portgroups per datacenter")
	flag.IntVar(&model.Datastore, "ds", model.Datastore, "Model.Datastore: local datastores")
	flag.BoolVar(&model.Autostart, "autostart", model.Autostart, "Model.Autostart: power on the VMs")
	listen := flag.String("listen", "127.0.0.1:0", "listen address (loopback only)")
	useTLS := flag.Bool("tls", false, "serve https with the library's built-in localhost certificate")
	user := flag.String("username", "", "the only user name accepted (default: any)")
	pass := flag.String("password", "", "the only password accepted (with -username)")
	flag.BoolVar(&simulator.Trace, "trace", false, "simulator.Trace: log every SOAP request and response to standard error")
	flag.Parse()

	log.SetFlags(log.Ltime | log.Lmicroseconds)
	log.SetPrefix("stockvcsim: ")
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)

	if err := loopback(*listen); err != nil {
		log.Fatal(err)
	}
	if err := model.Create(); err != nil {
		log.Fatal(err)
	}
	model.Service.Listen = &url.URL{Host: *listen}
	if *user != "" {
		model.Service.Listen.User = url.UserPassword(*user, *pass)
	}
	if *useTLS {
		model.Service.TLS = new(tls.Config)
	}
	server := model.Service.NewServer()

	var thumbprint, cert string
	if *useTLS {
		thumbprint = server.CertificateInfo().ThumbprintSHA1
		var err error
		if cert, err = server.CertificateFile(); err != nil {
			log.Fatal(err)
		}
	}
	u := url.URL{Scheme: server.URL.Scheme, Host: server.URL.Host, Path: server.URL.Path}
	line, _ := json.Marshal(struct {
		URL        string `json:"url"`
		Thumbprint string `json:"thumbprint"`
		Cert       string `json:"cert"`
	}{u.String(), thumbprint, cert})
	fmt.Println(string(line))
	_ = os.Stdout.Sync()
	about := model.ServiceContent.About
	log.Printf("serving %s: %s, API %s", u.String(), about.FullName, about.ApiVersion)

	done := make(chan string, 2)
	go func() { done <- (<-signals).String() }()
	go func() {
		_, _ = io.Copy(ioutil.Discard, os.Stdin)
		done <- "standard input closed"
	}()
	log.Printf("stopping: %s", <-done)
	closed := make(chan struct{})
	go func() { server.CloseClientConnections(); server.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(2 * time.Second):
	}
	model.Remove()
}
