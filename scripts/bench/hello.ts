// The baseline for bench:http: a bare Elysia hello-world on the same runtime. It also answers the
// catalogue's path, so that Caddy can route it there as it would to the product service.
import { Elysia } from 'elysia'

new Elysia()
  .get('/', () => 'hello')
  .get('/api/products', () => 'hello')
  .listen({ hostname: '127.0.0.1', port: Number(process.env.PORT) })
console.log('listening')
