package dev.berth.core.image;

import dev.berth.spi.BackendException;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/** Builds the {@link SSLContext} for a registry endpoint: extra CAs, client certificates, or no verification. */
final class TlsConfig {
    private TlsConfig() {
    }

    static SSLContext context(RegistryHosts.Endpoint ep) {
        try {
            TrustManager[] trust;
            if (ep.skipVerify()) {
                trust = new TrustManager[] {new TrustAll()};
            } else if (!ep.ca().isEmpty()) {
                KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
                ks.load(null, null);
                int i = 0;
                for (Path ca : ep.ca()) {
                    for (Certificate c : readCerts(ca)) {
                        ks.setCertificateEntry("ca" + i++, c);
                    }
                }
                X509ExtendedTrustManager extra = trustManager(ks);
                X509ExtendedTrustManager system = trustManager(null);
                trust = new TrustManager[] {new Either(system, extra)};
            } else {
                trust = null;
            }
            KeyManager[] keys = null;
            if (!ep.clientCerts().isEmpty()) {
                KeyStore ks = KeyStore.getInstance("PKCS12");
                ks.load(null, null);
                int i = 0;
                for (Path[] pair : ep.clientCerts()) {
                    List<Certificate> chain = readCerts(pair[0]);
                    ks.setKeyEntry("client" + i++, readKey(pair[1]), new char[0], chain.toArray(Certificate[]::new));
                }
                KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(ks, new char[0]);
                keys = kmf.getKeyManagers();
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(keys, trust, null);
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw BackendException.invalid("failed to set up TLS for registry \"" + ep.base() + "\": " + e.getMessage());
        }
    }

    private static List<Certificate> readCerts(Path pem) throws IOException, CertificateException {
        try (InputStream in = Files.newInputStream(pem)) {
            return new ArrayList<>(CertificateFactory.getInstance("X.509").generateCertificates(in));
        }
    }

    private static PrivateKey readKey(Path pem) throws IOException, GeneralSecurityException {
        String text = Files.readString(pem);
        if (!text.contains("BEGIN PRIVATE KEY")) {
            throw new GeneralSecurityException("client key " + pem + " must be PEM PKCS#8 (BEGIN PRIVATE KEY)");
        }
        String b64 = text.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(Base64.getDecoder().decode(b64));
        for (String alg : List.of("RSA", "EC", "Ed25519")) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(spec);
            } catch (GeneralSecurityException e) {
                // try the next algorithm
            }
        }
        throw new GeneralSecurityException("client key " + pem + " is not an RSA, EC or Ed25519 key");
    }

    private static X509ExtendedTrustManager trustManager(KeyStore ks) throws GeneralSecurityException {
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        for (TrustManager tm : tmf.getTrustManagers()) {
            if (tm instanceof X509ExtendedTrustManager x) {
                return x;
            }
        }
        throw new GeneralSecurityException("no X509 trust manager");
    }

    /** Trusts a server when either the system CAs or the configured CAs do. */
    private static final class Either extends X509ExtendedTrustManager {
        private final X509ExtendedTrustManager a;
        private final X509ExtendedTrustManager b;

        Either(X509ExtendedTrustManager a, X509ExtendedTrustManager b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            try {
                a.checkServerTrusted(chain, authType, engine);
            } catch (CertificateException e) {
                b.checkServerTrusted(chain, authType, engine);
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            try {
                a.checkServerTrusted(chain, authType, socket);
            } catch (CertificateException e) {
                b.checkServerTrusted(chain, authType, socket);
            }
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            try {
                a.checkServerTrusted(chain, authType);
            } catch (CertificateException e) {
                b.checkServerTrusted(chain, authType);
            }
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            throw new CertificateException("not a server");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            throw new CertificateException("not a server");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("not a server");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            List<X509Certificate> all = new ArrayList<>(List.of(a.getAcceptedIssuers()));
            all.addAll(List.of(b.getAcceptedIssuers()));
            return all.toArray(X509Certificate[]::new);
        }
    }

    /** {@code skip_verify = true}: no certificate or host name check, as configured by the operator. */
    private static final class TrustAll extends X509ExtendedTrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] c, String a, Socket s) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] c, String a, Socket s) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] c, String a, SSLEngine e) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] c, String a, SSLEngine e) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] c, String a) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] c, String a) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
