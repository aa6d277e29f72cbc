using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using VirtTools.UsbIp.Tls;

namespace VirtTools.Bench;

/// <summary>
/// The TLS relay pair natively (issue 15's relay; the lab's tls-relay row measures it under TCG): bytes written into
/// a socket pair as usbip-host writes a device's answers cross the server's relay, TLS 1.3 on loopback TCP and the
/// client's relay, and are read from the far socket pair as vhci_hcd reads them. Reported: MiB/s and the two relays'
/// CPU per MiB (their threads' own utime + stime, from /proc), against the cipher floor: ChaCha20-Poly1305 sealing and
/// opening the same bytes in 16 KiB records, which every relayed byte costs at the least.
/// </summary>
public sealed class RelaySuite : BenchSuite
{
    public const string Name = "relay";

    /// <summary>A storage transfer's answer as stub_tx writes it (the lab's reads came in pieces of ~43 KB).</summary>
    private const int WriteSize = 43 * 1024;

    public RelaySuite(BenchOptions options, Report report) : base(options, report) { }

    public override void Run()
    {
        var mebibytes = Options.Quick ? 64 : 1024;
        var cipherFloor = CipherMillisecondsPerMebibyte(mebibytes);
        var runs = Enumerable.Range(0, Options.Quick ? 1 : 5).Select(_ => RelayOnce(mebibytes).GetAwaiter().GetResult()).ToList();
        var median = runs.OrderBy(r => r.RelayCpuMsPerMiB).ElementAt(runs.Count / 2);
        Report.Add(new Row(Name, $"{mebibytes} MiB through a server relay, TLS 1.3 on loopback and a client relay (ChaCha20-Poly1305), socket pair to socket pair",
            $"{median.MiBPerSecond:N0} MiB/s; both relays {median.RelayCpuMsPerMiB:0.00} ms CPU per MiB",
            $"cipher floor (seal + open) {cipherFloor:0.00} ms CPU per MiB",
            $"{Timing.Ratio(median.RelayCpuMsPerMiB / cipherFloor)} the floor's CPU",
            $"median of {runs.Count} by relay CPU; pool threads {median.PoolCpuMsPerMiB:0.00} ms/MiB, epoll thread {median.EpollCpuMsPerMiB:0.00} ms/MiB (0 since the relay reads its connection directly)"));
    }

    private sealed record RelayRun(double MiBPerSecond, double RelayCpuMsPerMiB, double PoolCpuMsPerMiB, double EpollCpuMsPerMiB);

    private static async Task<RelayRun> RelayOnce(int mebibytes)
    {
        using var certificate = SelfSigned();
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var clientSocket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var accepting = listener.AcceptAsync();
        await clientSocket.ConnectAsync(listener.LocalEndPoint!);
        var serverSocket = await accepting;
        serverSocket.NoDelay = true;
        var server = new RelayConnection(serverSocket, ownsSocket: true);
        var client = new RelayConnection(clientSocket, ownsSocket: true);
        await Task.WhenAll(
            server.Tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = certificate, EnabledSslProtocols = SslProtocols.Tls13, CipherSuitesPolicy = UsbIpTlsCipherSuites.Policy,
            }),
            client.Tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "bench", EnabledSslProtocols = SslProtocols.Tls13, CipherSuitesPolicy = UsbIpTlsCipherSuites.Policy,
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
            }));
        var (usbipHost, serverEnd) = LocalSocketPair.Create();
        var (vhci, clientEnd) = LocalSocketPair.Create();
        var serverRelay = UsbIpRelay.RunAsync(server, serverEnd, CancellationToken.None);
        var clientRelay = UsbIpRelay.RunAsync(client, clientEnd, CancellationToken.None);

        var total = (long)mebibytes << 20;
        var before = ThreadCpu();
        var clock = Stopwatch.StartNew();
        var writer = new Thread(() =>
        {
            var answer = new byte[WriteSize];
            for (var left = total; left > 0; left -= WriteSize)
                usbipHost.Send(answer.AsSpan(0, (int)Math.Min(WriteSize, left)));
        }) { Name = "bench usbip-host" };
        writer.Start();
        var received = 0L;
        var reader = new Thread(() =>
        {
            var buffer = new byte[256 * 1024];
            while (received < total)
            {
                var n = vhci.Receive(buffer);
                if (n == 0) break;
                received += n;
            }
        }) { Name = "bench vhci_hcd" };
        reader.Start();
        reader.Join();
        var seconds = clock.Elapsed.TotalSeconds;
        var used = Difference(before, ThreadCpu());
        writer.Join();
        usbipHost.Dispose();
        vhci.Dispose();
        await Task.WhenAll(serverRelay, clientRelay);
        if (received != total) throw new InvalidOperationException($"the relays carried {received} of {total} bytes");
        // The two pumps of each relay: "usbip->kernel" and "usbip->network".
        double PerMiB(string thread) => used.Where(pair => pair.Key.StartsWith(thread, StringComparison.Ordinal)).Sum(pair => pair.Value) * 1000 / mebibytes;
        return new RelayRun(mebibytes / seconds, PerMiB("usbip->"), PerMiB(".NET TP Worker"), PerMiB(".NET Sockets"));
    }

    /// <summary>The CPU every relayed byte costs at the least: sealed once by one relay, opened once by the other.</summary>
    private static double CipherMillisecondsPerMebibyte(int mebibytes)
    {
        using var cipher = new ChaCha20Poly1305(RandomNumberGenerator.GetBytes(32));
        var nonce = new byte[12];
        var tag = new byte[16];
        var plain = new byte[16 * 1024];
        var sealedRecord = new byte[plain.Length];
        var records = mebibytes * 64;
        for (var i = 0; i < 64; i++) cipher.Encrypt(nonce, plain, sealedRecord, tag);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < records; i++)
        {
            cipher.Encrypt(nonce, plain, sealedRecord, tag);
            cipher.Decrypt(nonce, sealedRecord, tag, plain);
        }
        return clock.Elapsed.TotalMilliseconds / mebibytes;
    }

    private static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=bench", key, HashAlgorithmName.SHA256);
        using var ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        // OpenSSL needs the key in a form it can use from the server's side: a PKCS#12 round trip gives it one.
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>CPU seconds (utime + stime) per thread name in this process, from /proc/self/task.</summary>
    private static Dictionary<string, double> ThreadCpu()
    {
        var seconds = new Dictionary<string, double>();
        foreach (var task in Directory.GetDirectories("/proc/self/task"))
        {
            string stat;
            try { stat = File.ReadAllText(Path.Combine(task, "stat")); } catch (IOException) { continue; } // the thread ended
            var name = stat[(stat.IndexOf('(') + 1)..stat.LastIndexOf(')')];
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            seconds[name] = seconds.GetValueOrDefault(name) + (double.Parse(fields[11]) + double.Parse(fields[12])) / 100;
        }
        return seconds;
    }

    private static Dictionary<string, double> Difference(Dictionary<string, double> before, Dictionary<string, double> after) =>
        after.ToDictionary(pair => pair.Key, pair => pair.Value - before.GetValueOrDefault(pair.Key));
}
