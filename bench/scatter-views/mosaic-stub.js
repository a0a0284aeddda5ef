// Stand-ins for Mosaic's exports (see vite.config.mjs): the plain EmbeddingView does not call them.
const unused = () => {
  throw new Error('Mosaic is not part of this bench');
};
export const coordinator = unused, makeClient = unused, sql = unused, literal = unused, isSelection = () => false;
export class MosaicClient {}
export class Selection {}
export class Query {}
export const EmbeddingView = undefined;
