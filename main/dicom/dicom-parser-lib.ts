import * as dicomParserNs from 'dicom-parser';
import type { ByteArrayParser, ByteStream, DataSet, Element } from 'dicom-parser';

/**
 * dicom-parser is a UMD/CommonJS bundle: under Node's ESM loader its functions sit on `default`, under a
 * bundler they may be named exports. Resolve once so the rest of the module can call it plainly.
 */
type DicomParserModule = typeof dicomParserNs & {
  DataSet: new (parser: ByteArrayParser, byteArray: Uint8Array, elements: Record<string, Element>) => DataSet;
  ByteStream: new (parser: ByteArrayParser, byteArray: Uint8Array, position: number) => ByteStream;
};

const withDefault = dicomParserNs as unknown as { default?: DicomParserModule } & DicomParserModule;
export const dicomParser: DicomParserModule =
  typeof withDefault.parseDicom === 'function' ? withDefault : (withDefault.default as DicomParserModule);

export type { ByteArrayParser, ByteStream, DataSet, Element };
