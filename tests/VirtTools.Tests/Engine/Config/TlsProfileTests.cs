using VirtTools.Config;
using VirtTools.Diagnostics;
using Xunit;

namespace VirtTools.Tests.Engine.Config;

/// <summary>usbip.server.tls, usbip.server.grants and an attachment's tls: parsed, checked, and written back as read.</summary>
public sealed class TlsProfileTests
{
    private const string Profile = """
        usbip:
          server:
            address: ["0.0.0.0"]
            tls: { certificate: /etc/virttools/server.crt, key: /etc/virttools/server.key, clientCa: /etc/virttools/clients-ca.crt, require: true }
            grants:
              - client: CN=desk-17.example
                devices: ["0781:5591", "1-1.2"]
              - client: sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
                devices: ["*"]
          attachments:
            - computerName: server1.example
              match: { busId: 1-1.2 }
              reconnect: true
              tls: { certificate: /etc/virttools/desk.crt, key: /etc/virttools/desk.key, serverCa: /etc/virttools/ca.crt }
            - computerName: 192.0.2.10
              match: { busId: 1-1.3 }
              tls: { serverFingerprint: "sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff" }

        """;

    [Fact]
    public void The_TLS_settings_and_grants_round_trip_through_the_writer()
    {
        var first = VirtHostConfigParser.Parse(Profile, "host.yaml");
        var again = VirtHostConfigParser.Parse(VirtHostConfigWriter.ToYaml(first), "again.yaml");
        foreach (var config in new[] { first, again })
        {
            var server = config.UsbIp!.Server!;
            Assert.Equal(new UsbIpServerTlsProfile("/etc/virttools/server.crt", "/etc/virttools/server.key", "/etc/virttools/clients-ca.crt", true), server.Tls);
            Assert.Equal(new[] { "CN=desk-17.example=0781:5591,1-1.2", "sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff=*" },
                server.Grants.Select(g => g.ToString()));
            var (withCa, pinned) = (config.UsbIp.Attachments[0].Tls!, config.UsbIp.Attachments[1].Tls!);
            Assert.Equal(("/etc/virttools/desk.crt", "/etc/virttools/desk.key", "/etc/virttools/ca.crt", (string?)null),
                (withCa.CertificatePath, withCa.KeyPath, withCa.ServerCaPath, withCa.ServerFingerprint));
            Assert.Equal((null, null, null), (pinned.CertificatePath, pinned.KeyPath, pinned.ServerCaPath));
            Assert.StartsWith("sha256:0011", pinned.ServerFingerprint, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_profile_without_TLS_writes_no_TLS_keys()
    {
        var yaml = VirtHostConfigWriter.ToYaml(VirtHostConfigParser.Parse("usbip:\n  server: { tcpPort: 3240 }\n", "host.yaml"));
        Assert.DoesNotContain("tls", yaml, StringComparison.Ordinal);
        Assert.DoesNotContain("grants", yaml, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("usbip:\n  server:\n    tls: { certificate: a.crt }\n", "host.yaml:3:10: usbip.server.tls")]
    [InlineData("usbip:\n  server:\n    tls: { certificate: a.crt, key: a.key }\n    grants: [{ client: desk, devices: [\"*\"] }]\n", "usbip.server.grants need usbip.server.tls with clientCa")]
    [InlineData("usbip:\n  server:\n    tls: { certificate: a.crt, key: a.key, clientCa: ca.crt }\n    grants: [{ client: desk, devices: [] }]\n", "gives no device")]
    [InlineData("usbip:\n  server:\n    tls: { certificate: a.crt, key: a.key, clientCa: ca.crt, verify: no }\n", "verify")]
    [InlineData("usbip:\n  attachments:\n    - { computerName: s, match: { busId: 1-1 }, tls: { serverFingerprint: \"md5:00\" } }\n", "does not start with \"sha256:\"")]
    [InlineData("usbip:\n  attachments:\n    - { computerName: s, match: { busId: 1-1 }, tls: { certificate: d.crt } }\n", "TLS (tls.certificate) needs a certificate and its key")]
    [InlineData("usbip:\n  attachments:\n    - { computerName: s, match: { busId: 1-1 }, tls: { serverCa: ca.crt, serverFingerprint: \"sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\" } }\n", "comes with tls.serverCa: trust the server by one or the other")]
    public void A_TLS_section_that_cannot_work_is_a_located_problem(string yaml, string expected)
    {
        var failure = Assert.Throws<VirtToolsException>(() => VirtHostConfigParser.Parse(yaml, "host.yaml"));
        Assert.Contains(expected, failure.Message, StringComparison.Ordinal);
    }
}
