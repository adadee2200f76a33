package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/gogibson/gogibson/client"
	"github.com/gogibson/gogibson/generated"
	"github.com/gogibson/gogibson/gibsontest"
)

// startServer runs an embedded Gibson server for the examples; real code dials its server's
// address, e.g. "unix:///var/run/gibson.sock" or "127.0.0.1:10128".
func startServer() *gibsontest.Server {
	s, err := gibsontest.Start()
	if err != nil {
		log.Fatal(err)
	}
	return s
}

func Example() {
	s := startServer()
	defer s.Close()
	ctx := context.Background()

	c, err := client.Dial(ctx, s.Addr())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	if err := c.Set(ctx, "user:1", []byte("alice"), time.Hour); err != nil {
		log.Fatal(err)
	}
	v, err := c.Get(ctx, "user:1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", v)
	n, _ := c.Inc(ctx, "visits")
	fmt.Println(n)
	// Output:
	// alice
	// 1
}

func ExampleClient_Get_notFound() {
	s := startServer()
	defer s.Close()
	ctx := context.Background()
	c, err := client.Dial(ctx, s.Addr())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	_, err = c.Get(ctx, "nobody")
	if errors.Is(err, client.ErrNotFound) {
		fmt.Println("not found:", err)
	}
	err = c.Set(ctx, "bad key", []byte("v"), 0)
	fmt.Println(errors.Is(err, client.ErrInvalidArgument))
	// Output:
	// not found: gibson: GET: not found
	// true
}

func ExampleClient_MGet() {
	s := startServer()
	defer s.Close()
	ctx := context.Background()
	c, err := client.Dial(ctx, s.Addr())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	for _, k := range []string{"user:b", "user:a", "user:c"} {
		if err := c.Set(ctx, k, []byte("v-"+k[5:]), 0); err != nil {
			log.Fatal(err)
		}
	}
	c.Inc(ctx, "user:n") // numbers come back as decimal text
	kvs, err := c.MGet(ctx, "user:", 0)
	if err != nil {
		log.Fatal(err)
	}
	for _, kv := range kvs { // server order
		fmt.Printf("%s=%s\n", kv.Key, kv.Value)
	}
	n, _ := c.MDelete(ctx, "user:")
	fmt.Println("deleted", n)
	kvs, _ = c.MGet(ctx, "user:", 0)
	fmt.Println(len(kvs))
	// Output:
	// user:b=v-b
	// user:a=v-a
	// user:c=v-c
	// user:n=1
	// deleted 4
	// 0
}

func ExamplePool() {
	s := startServer()
	defer s.Close()
	ctx := context.Background()

	p, err := client.NewPool(ctx, s.Addr(), client.PoolConfig{MinSize: 1, MaxSize: 4})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()

	conn, err := p.Acquire(ctx) // exclusive until Release
	if err != nil {
		log.Fatal(err)
	}
	conn.Set(ctx, "k", []byte("v"), 0)
	v, _ := conn.Get(ctx, "k")
	p.Release(conn)
	fmt.Printf("%s size=%d free=%d\n", v, p.Size(), p.FreeSize())
	// Output:
	// v size=1 free=1
}

func ExampleConn_Do() {
	s := startServer()
	defer s.Close()
	ctx := context.Background()

	conn, err := client.DialConn(ctx, s.Addr())
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()

	rep, err := conn.Do(ctx, generated.OpSet, []byte("0"), []byte("k"), []byte("raw value"))
	fmt.Println(rep.Code, string(rep.Data), err)
	rep, err = conn.Do(ctx, generated.OpMeta, []byte("k"), []byte("size"))
	n, _ := rep.Int()
	fmt.Println(rep.Code, n, err)
	_, err = conn.Do(ctx, generated.OpGet, []byte("missing"))
	fmt.Println(errors.Is(err, client.ErrNotFound))
	// Output:
	// VAL raw value <nil>
	// VAL 9 <nil>
	// true
}

func ExampleWithMaxValueSize() {
	s := startServer()
	defer s.Close()
	ctx := context.Background()

	// Match the limits to the server's configuration (these are the shipped gibson.conf's).
	c, err := client.Dial(ctx, s.Addr(),
		client.WithMaxKeySize(1024),
		client.WithMaxValueSize(2096127),
		client.WithMaxRequestSize(2<<20),
		client.WithDialTimeout(time.Second),
		client.WithPoolSize(2))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	err = c.Set(ctx, "k", make([]byte, 5000), 0)
	fmt.Println(errors.Is(err, client.ErrServer)) // the embedded server keeps its default 4096
	// Output:
	// true
}
