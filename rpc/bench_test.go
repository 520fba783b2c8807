package rpc

import (
	"bufio"
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gosupervisor/gosupervisor/internal/xmlrpcvalue"
	"github.com/gosupervisor/gosupervisor/procman"
)

// benchBackend has n running processes in groups of 10.
func benchBackend(n int) *fakeBackend {
	b := newFakeBackend()
	now := time.Now().Unix()
	for i := 0; i < n; i++ {
		p := b.addProc(fmt.Sprintf("group%03d", i/10), fmt.Sprintf("proc%04d", i))
		p.info.State, p.info.PID, p.info.Start = procman.Running, 10000+i, now-3600
		p.stdout = "/var/log/supervisor/" + p.info.Name + "-stdout.log"
		p.stderr = "/var/log/supervisor/" + p.info.Name + "-stderr.log"
	}
	return b
}

// benchClient sends one request and reads one Content-Length response.
type benchClient struct {
	c   net.Conn
	br  *bufio.Reader
	req []byte
	buf []byte
}

func newBenchClient(b *testing.B, sock, body string) *benchClient {
	c, err := net.Dial("unix", sock)
	if err != nil {
		b.Fatal(err)
	}
	return &benchClient{c: c, br: bufio.NewReaderSize(c, 64<<10), req: rpcRequest(body)}
}

func (bc *benchClient) do() (int, error) {
	if _, err := bc.c.Write(bc.req); err != nil {
		return 0, err
	}
	length := -1
	for {
		line, err := bc.br.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(line) == 2 {
			break
		}
		if len(line) > 16 && string(line[:16]) == "Content-Length: " {
			length, _ = strconv.Atoi(string(line[16 : len(line)-2]))
		}
	}
	if length < 0 {
		return 0, fmt.Errorf("no Content-Length")
	}
	if cap(bc.buf) < length {
		bc.buf = make([]byte, length)
	}
	_, err := ioReadFull(bc.br, bc.buf[:length])
	return length, err
}

func ioReadFull(br *bufio.Reader, p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := br.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// BenchmarkGetAllProcessInfo1000 is getAllProcessInfo with 1,000
// processes, raw HTTP over a unix socket (target <= 5 ms; Python 500-640 ms).
func BenchmarkGetAllProcessInfo1000(b *testing.B) { benchGetAllProcessInfo(b, 1000) }

// BenchmarkGetAllProcessInfo6000 is the same at 6,000 processes (issue 19:
// p50 <= 15 ms in the daemon).
func BenchmarkGetAllProcessInfo6000(b *testing.B) { benchGetAllProcessInfo(b, 6000) }

func benchGetAllProcessInfo(b *testing.B, procs int) {
	sock, _ := startServer(b, benchBackend(procs), nil, Options{})
	bc := newBenchClient(b, sock, call("supervisor.getAllProcessInfo"))
	defer bc.c.Close()
	n, err := bc.do()
	if err != nil || n < procs*900 {
		b.Fatalf("response %d bytes: %v", n, err)
	}
	b.SetBytes(int64(n))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := bc.do(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/call")
}

// BenchmarkGetState measures getState throughput with 1 and 8 clients,
// each on its own keep-alive connection.
func BenchmarkGetState(b *testing.B) {
	for _, clients := range []int{1, 8} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			sock, _ := startServer(b, benchBackend(10), nil, Options{})
			cs := make([]*benchClient, clients)
			for i := range cs {
				cs[i] = newBenchClient(b, sock, call("supervisor.getState"))
				defer cs[i].c.Close()
			}
			b.ResetTimer()
			var wg sync.WaitGroup
			per := b.N/clients + 1
			for _, bc := range cs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < per; i++ {
						if _, err := bc.do(); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(per*clients)/b.Elapsed().Seconds(), "calls/s")
		})
	}
}

// BenchmarkEncodeAllProcessInfo1000 is the in-process part of
// getAllProcessInfo: dispatch plus encoding, no socket.
func BenchmarkEncodeAllProcessInfo1000(b *testing.B) {
	d := NewDispatcher(benchBackend(1000), nil)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		v, err := d.Call(b.Context(), "supervisor.getAllProcessInfo", nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := EncodeResponse(make([]byte, 0, sizeHint(v)), v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeGetState(b *testing.B) {
	body := []byte(call("supervisor.getState"))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, _, err := xmlrpcvalue.DecodeCall(body); err != nil {
			b.Fatal(err)
		}
	}
}
