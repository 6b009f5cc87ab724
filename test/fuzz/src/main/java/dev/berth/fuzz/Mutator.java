package dev.berth.fuzz;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/** The ways a request is spoiled. Each returns the bytes to send and a short name for the report. */
final class Mutator {
    /** What was done to a request: its name and the bytes. */
    record Mutation(String kind, byte[] bytes) {}

    private static final String MARK = "\u0001fuzzmark\u0001";

    private final Random random;

    Mutator(Random random) {
        this.random = random;
    }

    /** Random bytes, 0 to 512 of them. */
    Mutation randomBytes() {
        byte[] b = new byte[random.nextInt(513)];
        random.nextBytes(b);
        return new Mutation("random", b);
    }

    /** One spoiled form of {@code seed}, chosen at random; sometimes the seed itself. */
    Mutation mutate(Message seed) {
        return switch (random.nextInt(8)) {
            case 0 -> new Mutation("valid", seed.toByteArray());
            case 1 -> new Mutation("bitflip", bitFlips(seed.toByteArray()));
            case 2 -> new Mutation("truncate", truncate(seed.toByteArray()));
            case 3 -> new Mutation("huge-length", hugeLength(seed.toByteArray()));
            case 4 -> new Mutation("unknown-field", unknownField(seed.toByteArray()));
            case 5 -> new Mutation("bad-utf8", badUtf8(seed));
            case 6 -> new Mutation("nul-strings", nulInEveryString(seed.toBuilder()).build().toByteArray());
            default -> new Mutation("mixed", bitFlips(unknownField(nulInEveryString(seed.toBuilder()).build()
                    .toByteArray())));
        };
    }

    private byte[] bitFlips(byte[] in) {
        if (in.length == 0) {
            return in;
        }
        byte[] b = in.clone();
        int flips = 1 + random.nextInt(4);
        for (int i = 0; i < flips; i++) {
            int at = random.nextInt(b.length);
            b[at] ^= (byte) (1 << random.nextInt(8));
        }
        return b;
    }

    private byte[] truncate(byte[] in) {
        return in.length == 0 ? in : Arrays.copyOf(in, random.nextInt(in.length));
    }

    /** A length-delimited field whose length prefix claims far more bytes than follow, at the front or end. */
    private byte[] hugeLength(byte[] in) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int field = 1 + random.nextInt(15);
        byte[] prefix = {(byte) ((field << 3) | 2), (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff,
                (byte) 0x07};
        if (random.nextBoolean()) {
            out.writeBytes(prefix);
            out.writeBytes(in);
        } else {
            out.writeBytes(in);
            out.writeBytes(prefix);
            out.writeBytes(new byte[] {1, 2, 3});
        }
        return out.toByteArray();
    }

    /** A field number the schema does not have, with a random wire type and payload, at a random place. */
    private byte[] unknownField(byte[] in) {
        ByteArrayOutputStream f = new ByteArrayOutputStream();
        int number = 1000 + random.nextInt(100_000);
        int wire = new int[] {0, 1, 2, 5}[random.nextInt(4)];
        writeVarint(f, ((long) number << 3) | wire);
        switch (wire) {
            case 0 -> writeVarint(f, random.nextLong() & Long.MAX_VALUE);
            case 1 -> f.writeBytes(new byte[8]);
            case 2 -> {
                byte[] payload = new byte[random.nextInt(64)];
                random.nextBytes(payload);
                writeVarint(f, payload.length);
                f.writeBytes(payload);
            }
            default -> f.writeBytes(new byte[4]);
        }
        // Fields may come in any order; put it first or last so that the rest stays well-formed.
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (random.nextBoolean()) {
            out.writeBytes(f.toByteArray());
            out.writeBytes(in);
        } else {
            out.writeBytes(in);
            out.writeBytes(f.toByteArray());
        }
        return out.toByteArray();
    }

    /** One string field of the request holds bytes that are not UTF-8. */
    private byte[] badUtf8(Message seed) {
        List<FieldDescriptor> strings = new ArrayList<>();
        Message.Builder b = seed.toBuilder();
        if (!markOneString(b, strings)) {
            // No string to spoil at the top level: add field 1 as a string of bad bytes.
            byte[] in = seed.toByteArray();
            byte[] out = Arrays.copyOf(new byte[] {0x0a, 0x03, (byte) 0xff, (byte) 0xfe, (byte) 0xfd}, 5 + in.length);
            System.arraycopy(in, 0, out, 5, in.length);
            return out;
        }
        byte[] bytes = b.build().toByteArray();
        byte[] mark = MARK.getBytes(StandardCharsets.UTF_8);
        int at = indexOf(bytes, mark);
        if (at >= 0) {
            for (int i = 0; i < mark.length; i++) {
                bytes[at + i] = (byte) (0x80 | random.nextInt(0x40)); // lone continuation bytes
            }
        }
        return bytes;
    }

    private boolean markOneString(Message.Builder b, List<FieldDescriptor> seen) {
        List<FieldDescriptor> fields = new ArrayList<>(b.getAllFields().keySet());
        java.util.Collections.shuffle(fields, random);
        for (FieldDescriptor f : fields) {
            if (f.isMapField()) {
                continue;
            }
            if (f.getJavaType() == FieldDescriptor.JavaType.STRING) {
                if (f.isRepeated()) {
                    b.setRepeatedField(f, 0, MARK);
                } else {
                    b.setField(f, MARK);
                }
                return true;
            }
            if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE && !f.isRepeated()) {
                Message.Builder sub = ((Message) b.getField(f)).toBuilder();
                if (markOneString(sub, seen)) {
                    b.setField(f, sub.build());
                    return true;
                }
            }
        }
        return false;
    }

    /** A NUL byte inserted into every string of the message, map keys and values included. */
    Message.Builder nulInEveryString(Message.Builder b) {
        for (FieldDescriptor f : new ArrayList<>(b.getAllFields().keySet())) {
            if (f.getJavaType() == FieldDescriptor.JavaType.STRING) {
                if (f.isRepeated()) {
                    for (int i = 0; i < b.getRepeatedFieldCount(f); i++) {
                        b.setRepeatedField(f, i, withNul((String) b.getRepeatedField(f, i)));
                    }
                } else {
                    b.setField(f, withNul((String) b.getField(f)));
                }
            } else if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
                if (f.isRepeated()) {
                    for (int i = 0; i < b.getRepeatedFieldCount(f); i++) {
                        Message m = (Message) b.getRepeatedField(f, i);
                        b.setRepeatedField(f, i, nulInEveryString(m.toBuilder()).build());
                    }
                } else {
                    b.setField(f, nulInEveryString(((Message) b.getField(f)).toBuilder()).build());
                }
            }
        }
        return b;
    }

    private String withNul(String s) {
        int at = s.isEmpty() ? 0 : random.nextInt(s.length() + 1);
        return s.substring(0, at) + '\0' + s.substring(at);
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static void writeVarint(ByteArrayOutputStream out, long v) {
        while ((v & ~0x7fL) != 0) {
            out.write((int) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        out.write((int) v);
    }
}
