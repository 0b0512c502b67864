// Files embedded with `import … with { type: 'file' }` resolve to a path Bun.file can open.
declare module 'swagger-ui-dist/*' {
  const path: string
  export default path
}
declare module 'uplot/dist/*' {
  const path: string
  export default path
}
declare module './ui/*' {
  const path: string
  export default path
}
