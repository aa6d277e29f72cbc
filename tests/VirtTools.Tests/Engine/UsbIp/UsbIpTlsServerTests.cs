using System.Net;
using System.Net.Sockets;
using VirtTools.Diagnostics;
using VirtTools.Tests.Support;
using VirtTools.UsbIp;
using VirtTools.UsbIp.Client;
using VirtTools.UsbIp.Tls;
using Xunit;

namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>TLS on the server's port and the client's side of it, over loopback, with certificates made for the test.</summary>
public sealed class UsbIpTlsServerTests(TestCertificates certificates) : IClassFixture<TestCertificates>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private UsbIpTlsServerSettings ServerTls(bool clientCa = true, bool require = false) => new()
    {
        CertificatePath = certificates.ServerCertificatePath,
        KeyPath = certificates.ServerKeyPath,
        ClientCaPath = clientCa ? certificates.CaPath : null,
        Require = require,
    };

    private UsbIpTlsClientSettings ClientTls(bool certificate = true) => new()
    {
        CertificatePath = certificate ? certificates.ClientCertificatePath : null,
        KeyPath = certificate ? certificates.ClientKeyPath : null,
        ServerCaPath = certificates.CaPath,
    };

    [Fact]
    public async Task Plain_USB_IP_and_TLS_are_served_on_the_same_port()
    {
        await using var server = new UsbIpServerFixture(tls: ServerTls());
        var plain = Assert.Single(await UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, Timeout));
        var overTls = Assert.Single(await UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, Timeout, tls: ClientTls()));
        Assert.Equal((plain.BusId, plain.Path, plain.VendorId, plain.ProductId), (overTls.BusId, overTls.Path, overTls.VendorId, overTls.ProductId));
        Assert.True(server.Server.Tls);
        Assert.Equal(0, server.Server.TlsRefused);
    }

    [Fact]
    public async Task Require_tls_refuses_plain_USB_IP_says_so_in_the_log_and_still_serves_TLS()
    {
        await using var server = new UsbIpServerFixture(tls: ServerTls(require: true));
        var refused = await Assert.ThrowsAnyAsync<VirtToolsException>(() => UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, Timeout));
        // Closed unanswered: the client sees the end of the connection, or a reset when its request was still unread.
        Assert.Contains(refused.ErrorId, new[] { "UsbIpMessageTruncated", UsbIpErrors.ConnectionLostId });
        Assert.Equal(1, server.Server.TlsRefused);
        Assert.Contains(server.Log, line => line == "127.0.0.1: plain USB/IP refused: this server requires TLS (--require-tls); connection closed.");
        Assert.Single(await UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, Timeout, tls: ClientTls()));
    }

    [Fact]
    public async Task A_client_without_a_certificate_is_refused_when_the_server_has_a_client_CA()
    {
        await using var server = new UsbIpServerFixture(tls: ServerTls());
        var refused = await Assert.ThrowsAnyAsync<VirtToolsException>(() =>
            UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, Timeout, tls: ClientTls(certificate: false)));
        Assert.Equal(UsbIpErrors.TlsHandshakeFailedId, refused.ErrorId);
        await WaitUntil(() => server.Server.TlsRefused == 1);
        Assert.Contains(server.Log, line => line.Contains("TLS refused: it sent no client certificate", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_client_certificate_from_another_CA_is_refused_and_the_log_names_it()
    {
        await using var server = new UsbIpServerFixture(tls: ServerTls());
        var stranger = ClientTls() with { CertificatePath = certificates.StrangerCertificatePath, KeyPath = certificates.StrangerKeyPath };
        var refused = await Assert.ThrowsAnyAsync<VirtToolsException>(() =>
            UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, Timeout, tls: stranger));
        Assert.Equal(UsbIpErrors.TlsHandshakeFailedId, refused.ErrorId);
        await WaitUntil(() => server.Server.TlsRefused == 1);
        Assert.Contains(server.Log, line => line.Contains("CN=stranger.test", StringComparison.Ordinal) && line.Contains("does not chain to the given CA", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_client_certificate_of_an_intermediate_CA_is_accepted_when_the_client_sends_the_intermediate_and_the_server_trusts_the_root()
    {
        await using var server = new UsbIpServerFixture(tls: ServerTls());
        var branch = ClientTls() with { CertificatePath = certificates.BranchChainPath, KeyPath = certificates.BranchKeyPath };
        Assert.Single(await UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, Timeout, tls: branch));
        Assert.Equal(0, server.Server.TlsRefused);
    }

    [Fact]
    public async Task A_client_certificate_of_an_intermediate_CA_is_accepted_alone_when_the_client_CA_file_holds_the_intermediate_too()
    {
        await using var server = new UsbIpServerFixture(tls: ServerTls() with { ClientCaPath = certificates.CaWithIntermediatePath });
        var branch = ClientTls() with { CertificatePath = certificates.BranchLeafPath, KeyPath = certificates.BranchKeyPath };
        Assert.Single(await UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, Timeout, tls: branch));
        Assert.Equal(0, server.Server.TlsRefused);
    }

    [Fact]
    public async Task A_client_certificate_of_an_intermediate_CA_is_refused_when_nobody_gives_the_intermediate()
    {
        await using var server = new UsbIpServerFixture(tls: ServerTls());
        var branch = ClientTls() with { CertificatePath = certificates.BranchLeafPath, KeyPath = certificates.BranchKeyPath };
        var refused = await Assert.ThrowsAnyAsync<VirtToolsException>(() =>
            UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, Timeout, tls: branch));
        Assert.Equal(UsbIpErrors.TlsHandshakeFailedId, refused.ErrorId);
        await WaitUntil(() => server.Server.TlsRefused == 1);
        Assert.Contains(server.Log, line => line.Contains("CN=desk-19.test", StringComparison.Ordinal) && line.Contains("does not chain to the given CA", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_client_certificate_of_an_intermediate_CA_with_its_chain_is_refused_by_a_server_trusting_another_CA()
    {
        await using var server = new UsbIpServerFixture(tls: ServerTls() with { ClientCaPath = certificates.OtherCaPath });
        var branch = ClientTls() with { CertificatePath = certificates.BranchChainPath, KeyPath = certificates.BranchKeyPath };
        var refused = await Assert.ThrowsAnyAsync<VirtToolsException>(() =>
            UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, Timeout, tls: branch));
        Assert.Equal(UsbIpErrors.TlsHandshakeFailedId, refused.ErrorId);
        await WaitUntil(() => server.Server.TlsRefused == 1);
    }

    /// <summary>The TLS settings of a profile attachment, as the agent reads them.</summary>
    private static UsbIpTlsClientSettings ProfileTls(string tls) => VirtTools.Config.VirtHostConfigParser.Parse(
        $"usbip:\n  attachments:\n    - computerName: 127.0.0.1\n      match: {{ busId: 2-3 }}\n      reconnect: true\n      tls: {tls}\n", "client.yaml")
        .UsbIp!.Attachments.Single().Tls!;

    [Fact]
    public async Task A_profile_attachments_tls_settings_reach_a_server_that_requires_a_client_certificate()
    {
        await using var server = new UsbIpServerFixture(tls: ServerTls(require: true));
        var tls = ProfileTls($"{{ certificate: \"{certificates.ClientCertificatePath}\", key: \"{certificates.ClientKeyPath}\", serverCa: \"{certificates.CaPath}\" }}");
        Assert.Equal(UsbIpTlsClientNames.ProfileKeys, tls.Names);
        Assert.Single(await UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, Timeout, tls: tls));
        Assert.Equal(0, server.Server.TlsRefused);
    }

    [Fact]
    public async Task A_profile_attachments_TLS_failures_name_its_keys_not_the_cmdlet_parameters()
    {
        await using var server = new UsbIpServerFixture(tls: ServerTls(clientCa: false));
        var pinned = ProfileTls($"{{ serverFingerprint: \"sha256:{new string('0', 64)}\" }}");
        var distrusted = await Assert.ThrowsAnyAsync<VirtToolsException>(() => UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, Timeout, tls: pinned));
        Assert.Equal(UsbIpErrors.TlsServerNotTrustedId, distrusted.ErrorId);
        Assert.Contains("Check tls.serverCa", distrusted.RecommendedAction, StringComparison.Ordinal);
        Assert.Contains("or tls.serverFingerprint", distrusted.RecommendedAction, StringComparison.Ordinal);
        Assert.DoesNotContain("-Server", distrusted.RecommendedAction, StringComparison.Ordinal);

        await using var strict = new UsbIpServerFixture(tls: ServerTls());
        var anonymous = ProfileTls($"{{ serverCa: \"{certificates.CaPath}\" }}");
        var refused = await Assert.ThrowsAnyAsync<VirtToolsException>(() => UsbIpClient.ListDevicesAsync("127.0.0.1", strict.Port, Timeout, tls: anonymous));
        Assert.Equal(UsbIpErrors.TlsHandshakeFailedId, refused.ErrorId);
        Assert.Contains("tls.certificate/tls.key", refused.RecommendedAction, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pinned_fingerprint_that_matches_is_trusted_without_a_CA()
    {
        await using var server = new UsbIpServerFixture(tls: ServerTls(clientCa: false));
        var pinned = new UsbIpTlsClientSettings { ServerFingerprint = certificates.ServerFingerprint.ToUpperInvariant().Replace("SHA256:", "sha256:") };
        Assert.Single(await UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, Timeout, tls: pinned));
    }

    [Fact]
    public async Task A_pinned_fingerprint_that_does_not_match_is_refused_before_any_request()
    {
        await using var server = new UsbIpServerFixture(tls: ServerTls(clientCa: false));
        var other = new UsbIpTlsClientSettings { ServerFingerprint = "sha256:" + new string('0', 64) };
        var refused = await Assert.ThrowsAnyAsync<VirtToolsException>(() =>
            UsbIpClient.ImportAsync("127.0.0.1", server.Port, "2-3", Timeout, tls: other));
        Assert.Equal(UsbIpErrors.TlsServerNotTrustedId, refused.ErrorId);
        Assert.Contains("is not the pinned one", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, server.Server.Imports);
        Assert.Empty(((UsbIpServerFixture.RecordingHandoff)server.Handoff).HandedOver);
    }

    [Fact]
    public async Task A_server_certificate_from_another_CA_is_not_trusted()
    {
        await using var server = new UsbIpServerFixture(tls: ServerTls(clientCa: false));
        var refused = await Assert.ThrowsAnyAsync<VirtToolsException>(() =>
            UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, Timeout, tls: new UsbIpTlsClientSettings { ServerCaPath = certificates.OtherCaPath }));
        Assert.Equal(UsbIpErrors.TlsServerNotTrustedId, refused.ErrorId);
        Assert.Contains("does not chain to the given CA", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_certificate_issued_to_another_name_is_not_trusted()
    {
        await using var server = new UsbIpServerFixture(tls: ServerTls(clientCa: false), addresses: new[] { IPAddress.Parse("127.0.0.2") });
        // The certificate names localhost, 127.0.0.1 and ::1; 127.0.0.2 is the same server under a name it does not carry.
        var refused = await Assert.ThrowsAnyAsync<VirtToolsException>(() =>
            UsbIpClient.ListDevicesAsync("127.0.0.2", server.Port, Timeout, tls: new UsbIpTlsClientSettings { ServerCaPath = certificates.CaPath }));
        Assert.Equal(UsbIpErrors.TlsServerNotTrustedId, refused.ErrorId);
        Assert.Contains("is not issued to '127.0.0.2'", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(8)]
    [InlineData(300)]
    [InlineData(5000)]
    public async Task Garbage_after_a_TLS_record_byte_is_refused_and_the_server_keeps_serving(int length)
    {
        await using var server = new UsbIpServerFixture(tls: ServerTls());
        var garbage = new byte[length];
        new Random(length).NextBytes(garbage);
        garbage[0] = 0x16;
        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await socket.ConnectAsync(IPAddress.Loopback, server.Port);
            await socket.SendAsync(garbage, SocketFlags.None);
            // The server answers with an alert, or closes: either way the connection ends, within the request deadline.
            using var waiting = new CancellationTokenSource(Timeout);
            var buffer = new byte[4096];
            try
            {
                while (await socket.ReceiveAsync(buffer, SocketFlags.None, waiting.Token) > 0) { }
            }
            catch (SocketException) { }
        }
        await WaitUntil(() => server.Server.TlsRefused + server.Server.Timeouts == 1);
        Assert.Single(await UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, Timeout, tls: ClientTls()));
        Assert.Single(await UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, Timeout));
    }

    [Fact]
    public async Task A_TLS_client_of_a_server_without_TLS_gets_a_TLS_error_and_the_server_logs_why()
    {
        await using var server = new UsbIpServerFixture();
        var refused = await Assert.ThrowsAnyAsync<VirtToolsException>(() =>
            UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, Timeout, tls: ClientTls()));
        Assert.Equal(UsbIpErrors.TlsHandshakeFailedId, refused.ErrorId);
        await WaitUntil(() => server.Server.ProtocolErrors == 1);
        Assert.Contains(server.Log, line => line.Contains("a TLS handshake arrived, but this server has no certificate", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_key_that_is_not_the_certificates_own_fails_the_start()
    {
        var mismatched = ServerTls() with { KeyPath = certificates.ClientKeyPath };
        var failure = await Assert.ThrowsAnyAsync<VirtToolsException>(async () => await new UsbIpServerFixture(tls: mismatched).DisposeAsync());
        Assert.Equal(UsbIpErrors.TlsCertificateInvalidId, failure.ErrorId);
    }

    [Fact]
    public async Task A_missing_client_CA_file_fails_the_start_and_names_it()
    {
        var missing = ServerTls() with { ClientCaPath = Path.Combine(certificates.Folder, "nope.pem") };
        var failure = await Assert.ThrowsAnyAsync<VirtToolsException>(async () => await new UsbIpServerFixture(tls: missing).DisposeAsync());
        Assert.Equal((UsbIpErrors.TlsCertificateInvalidId, missing.ClientCaPath), (failure.ErrorId, failure.Target as string));
    }

    [Theory]
    [InlineData("ab12", "does not start with \"sha256:\"")]
    [InlineData("sha256:12", "is not 64 hex digits after \"sha256:\"")]
    [InlineData("sha256:zz00000000000000000000000000000000000000000000000000000000000000", "is not 64 hex digits after \"sha256:\"")]
    public void A_malformed_fingerprint_is_refused_before_anything_is_sent(string fingerprint, string problem)
    {
        var failure = Assert.Throws<VirtToolsException>(() => new UsbIpTlsClientSettings { ServerFingerprint = fingerprint }.Validated());
        Assert.Equal(UsbIpErrors.TlsInvalidFingerprintId, failure.ErrorId);
        Assert.Contains(problem, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fingerprints_are_read_as_openssl_prints_them()
    {
        var colons = "sha256:" + string.Join(":", Enumerable.Range(0, 32).Select(i => i.ToString("X2")));
        Assert.Equal(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray(), CertificateFingerprint.Parse(colons, out _));
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(waited.Elapsed < Timeout, "the server did not get there in time");
            await Task.Delay(10);
        }
    }
}
