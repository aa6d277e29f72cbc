using VirtTools.Diagnostics;
using VirtTools.Tests.Support;
using VirtTools.UsbIp;
using VirtTools.UsbIp.Client;
using VirtTools.UsbIp.Tls;
using Xunit;

namespace VirtTools.Tests.Engine.UsbIp;

/// <summary>Grants: which client identity may list and import which device (the captured 2-3, 46f4:0001).</summary>
public sealed class UsbIpGrantTests(TestCertificates certificates) : IClassFixture<TestCertificates>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private UsbIpServerFixture Serve(params string[] grants) => new(tls: new UsbIpTlsServerSettings
    {
        CertificatePath = certificates.ServerCertificatePath,
        KeyPath = certificates.ServerKeyPath,
        ClientCaPath = certificates.CaPath,
        Grants = grants.Select(UsbIpGrant.Parse).ToList(),
    });

    private UsbIpTlsClientSettings Desk17 => new()
    {
        CertificatePath = certificates.ClientCertificatePath,
        KeyPath = certificates.ClientKeyPath,
        ServerCaPath = certificates.CaPath,
    };

    private UsbIpTlsClientSettings Desk18 => Desk17 with { CertificatePath = certificates.NeighbourCertificatePath, KeyPath = certificates.NeighbourKeyPath };

    [Theory]
    [InlineData("CN=desk-17.test=46f4:0001")]
    [InlineData("desk-17.test=2-3")]
    [InlineData("desk-17.test=*")]
    public async Task A_granted_identity_lists_and_imports_the_device(string grant)
    {
        await using var server = Serve(grant);
        Assert.Equal("2-3", Assert.Single(await UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, Timeout, tls: Desk17)).BusId);
        using var import = await UsbIpClient.ImportAsync("127.0.0.1", server.Port, "2-3", Timeout, tls: Desk17);
        Assert.Equal("2-3", import.Device.BusId);
    }

    [Fact]
    public async Task A_grant_by_fingerprint_is_for_that_certificate_only()
    {
        await using var server = Serve($"{certificates.ClientFingerprint}=46f4:0001");
        Assert.Single(await UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, Timeout, tls: Desk17));
        Assert.Empty(await UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, Timeout, tls: Desk18));
    }

    [Fact]
    public async Task An_identity_without_a_grant_sees_nothing_cannot_import_and_is_named_in_the_log()
    {
        await using var server = Serve("desk-17.test=46f4:0001", "desk-18.test=dead:beef");
        Assert.Empty(await UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, Timeout, tls: Desk18));
        var refused = await Assert.ThrowsAnyAsync<VirtToolsException>(() => UsbIpClient.ImportAsync("127.0.0.1", server.Port, "2-3", Timeout, tls: Desk18));
        Assert.Equal("UsbIpDeviceNotAvailable", refused.ErrorId);
        Assert.Empty(((UsbIpServerFixture.RecordingHandoff)server.Handoff).HandedOver);
        Assert.Contains(server.Log, line => line.StartsWith("127.0.0.1: import of 2-3 (46f4:0001) denied to CN=desk-18.test, sha256:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task With_grants_a_plain_client_has_no_identity_and_gets_nothing()
    {
        await using var server = Serve("desk-17.test=*");
        Assert.Empty(await UsbIpClient.ListDevicesAsync("127.0.0.1", server.Port, Timeout));
        await Assert.ThrowsAnyAsync<VirtToolsException>(() => UsbIpClient.ImportAsync("127.0.0.1", server.Port, "2-3", Timeout));
        Assert.Empty(((UsbIpServerFixture.RecordingHandoff)server.Handoff).HandedOver);
    }

    [Theory]
    [InlineData("desk-17", "is not IDENTITY=MATCH")]
    [InlineData("=1-1", "is not IDENTITY=MATCH")]
    [InlineData("desk-17=", "is not IDENTITY=MATCH")]
    [InlineData("sha256:12=1-1", "names a fingerprint that is not 64 hex digits")]
    public void A_malformed_grant_is_refused(string grant, string problem)
    {
        var failure = Assert.Throws<VirtToolsException>(() => UsbIpGrant.Parse(grant));
        Assert.Equal(UsbIpErrors.GrantInvalidId, failure.ErrorId);
        Assert.Contains(problem, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Grants_without_a_client_CA_are_refused_as_no_client_would_have_an_identity()
    {
        var failure = Assert.Throws<VirtToolsException>(() => UsbIpTlsServerSettings.From("s.crt", "s.key", null, false,
            ("--tls-certificate", "--tls-key", "--client-ca", "--require-tls"), new[] { UsbIpGrant.Parse("desk=*") }));
        Assert.Equal(UsbIpErrors.GrantInvalidId, failure.ErrorId);
        Assert.Contains("needs --client-ca", failure.Message, StringComparison.Ordinal);
    }
}
