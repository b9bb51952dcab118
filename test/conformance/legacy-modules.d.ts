// Express 4 and Koa 2 are installed under npm aliases for the legacy-version suite; their
// own types are the current majors' (@types/express, koa), so the aliases borrow them.
declare module 'express4' {
  import express from 'express';
  export default express;
}
declare module 'koa2' {
  import Koa from 'koa';
  export default Koa;
}
