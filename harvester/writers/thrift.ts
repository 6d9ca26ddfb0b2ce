/**
 * Thrift compact protocol writer: just what Parquet's footer and page headers need (structs, i32/i64, binary,
 * lists, booleans). Fields are written in increasing id order by the caller.
 */

export const T_BOOL_TRUE = 1;
export const T_BOOL_FALSE = 2;
export const T_I32 = 5;
export const T_I64 = 6;
export const T_BINARY = 8;
export const T_LIST = 9;
export const T_STRUCT = 12;

export class CompactWriter {
    private buf = Buffer.alloc(256);
    private pos = 0;
    private lastField: number[] = [0];

    private ensure(n: number): void {
        if (this.pos + n > this.buf.length) {
            const next = Buffer.alloc(Math.max(this.buf.length * 2, this.pos + n));
            this.buf.copy(next, 0, 0, this.pos);
            this.buf = next;
        }
    }

    byte(b: number): void {
        this.ensure(1);
        this.buf[this.pos++] = b;
    }

    /** Unsigned varint of a non-negative integer < 2^53. */
    uvarint(v: number): void {
        let x = v;
        while (x >= 0x80) {
            this.byte((x % 0x80) | 0x80);
            x = Math.floor(x / 0x80);
        }
        this.byte(x);
    }

    /** Zigzag varint of a signed integer with |v| < 2^52. */
    zigzag(v: number): void {
        this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1);
    }

    private fieldHeader(id: number, type: number): void {
        const last = this.lastField[this.lastField.length - 1];
        const delta = id - last;
        if (delta > 0 && delta <= 15) {
            this.byte((delta << 4) | type);
        } else {
            this.byte(type);
            this.zigzag(id);
        }
        this.lastField[this.lastField.length - 1] = id;
    }

    i32(id: number, v: number): void {
        this.fieldHeader(id, T_I32);
        this.zigzag(v);
    }

    i64(id: number, v: number): void {
        this.fieldHeader(id, T_I64);
        this.zigzag(v);
    }

    bool(id: number, v: boolean): void {
        this.fieldHeader(id, v ? T_BOOL_TRUE : T_BOOL_FALSE);
    }

    binary(id: number, v: string | Uint8Array): void {
        this.fieldHeader(id, T_BINARY);
        this.rawBinary(v);
    }

    rawBinary(v: string | Uint8Array): void {
        const b = typeof v === "string" ? Buffer.from(v, "utf8") : v;
        this.uvarint(b.length);
        this.ensure(b.length);
        this.buf.set(b, this.pos);
        this.pos += b.length;
    }

    /** A nested struct field; `body` writes its fields. */
    struct(id: number, body: () => void): void {
        this.fieldHeader(id, T_STRUCT);
        this.structBody(body);
    }

    structBody(body: () => void): void {
        this.lastField.push(0);
        body();
        this.byte(0);
        this.lastField.pop();
    }

    private listHeader(id: number, size: number, elemType: number): void {
        this.fieldHeader(id, T_LIST);
        if (size < 15) {
            this.byte((size << 4) | elemType);
        } else {
            this.byte(0xf0 | elemType);
            this.uvarint(size);
        }
    }

    listI32(id: number, values: number[]): void {
        this.listHeader(id, values.length, T_I32);
        for (const v of values) {
            this.zigzag(v);
        }
    }

    listBinary(id: number, values: string[]): void {
        this.listHeader(id, values.length, T_BINARY);
        for (const v of values) {
            this.rawBinary(v);
        }
    }

    listStruct<T>(id: number, items: T[], body: (item: T) => void): void {
        this.listHeader(id, items.length, T_STRUCT);
        for (const it of items) {
            this.structBody(() => body(it));
        }
    }

    finish(): Buffer {
        return this.buf.subarray(0, this.pos);
    }
}
