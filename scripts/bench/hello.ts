// The baseline for bench:http: a bare Elysia hello-world on the same runtime.
import { Elysia } from 'elysia'

new Elysia().get('/', () => 'hello').listen({ hostname: '127.0.0.1', port: Number(process.env.PORT) })
console.log('listening')
