using System.Globalization;
using VirtTools.Ksm;
using VirtTools.State;
using VirtTools.UsbIp.Tls;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace VirtTools.Config;

/// <summary>
/// Writes a profile as YAML in exactly the schema <see cref="VirtHostConfigParser"/> reads, so an exported profile
/// reads back equal. Ids, bus ids and addresses are quoted so no YAML reader takes "0001" for a number.
/// </summary>
public static class VirtHostConfigWriter
{
    public static string ToYaml(VirtHostConfig config, string? header = null)
    {
        var top = new YamlMappingNode();
        if (config.UsbIp is { } usbIp) top.Add("usbip", UsbIp(usbIp));
        if (config.PciPassthrough.Count > 0)
            top.Add("pci", new YamlMappingNode { { "passthrough", new YamlSequenceNode(config.PciPassthrough.Select(Passthrough)) } });
        if (config.Ksm is { } ksm) top.Add("ksm", Ksm(ksm));

        var text = new StringWriter(CultureInfo.InvariantCulture);
        foreach (var line in (header ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries)) text.WriteLine("# " + line);
        if (top.Children.Count == 0) { text.WriteLine("{}"); return text.ToString(); }
        new YamlStream(new YamlDocument(top)).Save(text, assignAnchors: false);
        // YamlStream ends every document with "..."; the profile is one document and reads better without it.
        return text.ToString().Replace("\n...\n", "\n", StringComparison.Ordinal);
    }

    /// <summary>
    /// Writes the YAML to a file, creating its folder (/etc/virttools) when needed, through <see cref="AtomicFile"/>:
    /// mode 0644 whatever the umask (the agent reads it as root; nothing in a profile is secret), never through a
    /// symlink, and the agent reloading at that moment reads the old profile or the new one, never half.
    /// </summary>
    public static void Save(string path, string yaml)
    {
        try
        {
            AtomicFile.WriteText(path, yaml, AtomicFile.Public);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw ConfigErrors.Unwritable(path, e);
        }
    }

    private static YamlMappingNode UsbIp(UsbIpProfile usbIp)
    {
        var map = new YamlMappingNode();
        if (usbIp.DeadPeerTimeout is int deadPeer) map.Add("deadPeerTimeout", Number(deadPeer));
        if (usbIp.Server is { } server)
        {
            var section = new YamlMappingNode
            {
                { "address", Quoted(server.Address) },
                { "tcpPort", Number(server.TcpPort) },
                { "allow", Quoted(server.Allow) },
            };
            if (server.Tls is { } tls) section.Add("tls", ServerTls(tls));
            if (server.Grants.Count > 0)
                section.Add("grants", new YamlSequenceNode(server.Grants.Select(g => new YamlMappingNode { { "client", Quoted(g.Client) }, { "devices", Quoted(g.Devices) } })));
            if (server.ClaimPorts.Count > 0) section.Add("claimPorts", Quoted(server.ClaimPorts.Select(p => p.ToString())));
            map.Add("server", section);
        }
        if (usbIp.Exports.Count > 0)
            map.Add("exports", new YamlSequenceNode(usbIp.Exports.Select(e => new YamlMappingNode { { "match", Match(e.Match) } })));
        if (usbIp.Attachments.Count > 0)
            map.Add("attachments", new YamlSequenceNode(usbIp.Attachments.Select(Attachment)));
        return map;
    }

    private static YamlMappingNode Attachment(UsbIpAttachmentRule attachment)
    {
        var map = new YamlMappingNode
        {
            { "computerName", Quoted(attachment.ComputerName) },
            { "tcpPort", Number(attachment.TcpPort) },
        };
        if (attachment.TimeoutSec is int timeout) map.Add("timeoutSec", Number(timeout));
        map.Add("match", Match(attachment.Match));
        map.Add("reconnect", Flag(attachment.Reconnect));
        if (attachment.Container is { } container) map.Add("container", Quoted(container));
        if (attachment.DedicatedController) map.Add("dedicatedController", Flag(true));
        AddTls(map, attachment.Tls);
        return map;
    }

    private static YamlMappingNode ServerTls(UsbIpServerTlsProfile tls)
    {
        var map = new YamlMappingNode { { "certificate", Quoted(tls.Certificate) }, { "key", Quoted(tls.Key) } };
        if (tls.ClientCa is { } clientCa) map.Add("clientCa", Quoted(clientCa));
        map.Add("require", Flag(tls.Require));
        return map;
    }

    /// <summary>An attachment's tls: only the keys that are set.</summary>
    private static void AddTls(YamlMappingNode attachment, UsbIpTlsClientSettings? tls)
    {
        if (tls is null) return;
        var map = new YamlMappingNode();
        foreach (var (key, value) in new[] { ("certificate", tls.CertificatePath), ("key", tls.KeyPath), ("serverCa", tls.ServerCaPath), ("serverFingerprint", tls.ServerFingerprint) })
            if (value is not null) map.Add(key, Quoted(value));
        attachment.Add("tls", map);
    }

    /// <summary>A match on one line, as the documented profile writes it: { vendorId: "46f4", productId: "0001" }.</summary>
    private static YamlMappingNode Match(UsbDeviceMatch match)
    {
        var map = new YamlMappingNode { Style = MappingStyle.Flow };
        foreach (var (key, value) in new[] { ("busId", match.BusId?.ToString()), ("vendorId", match.VendorId), ("productId", match.ProductId), ("serial", match.Serial) })
            if (value is not null) map.Add(key, Quoted(value));
        return map;
    }

    private static YamlMappingNode Passthrough(PciPassthroughRule rule) => new()
    {
        { "address", Quoted(rule.Address.ToString()) },
        { "driver", rule.Driver },
        { "includeIommuGroup", Flag(rule.IncludeIommuGroup) },
    };

    private static YamlMappingNode Ksm(KsmSettings ksm)
    {
        var map = new YamlMappingNode();
        if (ksm.Run is KsmRunState run) map.Add("run", run.ToString());
        if (ksm.PagesToScan is int pages) map.Add("pagesToScan", Number(pages));
        if (ksm.SleepMilliseconds is int sleep) map.Add("sleepMilliseconds", Number(sleep));
        if (ksm.MaxPageSharing is int sharing) map.Add("maxPageSharing", Number(sharing));
        if (ksm.MergeAcrossNodes is bool across) map.Add("mergeAcrossNodes", Flag(across));
        if (ksm.UseZeroPages is bool zero) map.Add("useZeroPages", Flag(zero));
        if (ksm.SmartScan is bool smart) map.Add("smartScan", Flag(smart));
        if (ksm.AdvisorMode is { } advisor) map.Add("advisorMode", advisor);
        return map;
    }

    private static YamlScalarNode Quoted(string value) => new(value) { Style = ScalarStyle.DoubleQuoted };

    private static YamlSequenceNode Quoted(IEnumerable<string> values) => new(values.Select(Quoted)) { Style = SequenceStyle.Flow };

    private static YamlScalarNode Number(int value) => new(value.ToString(CultureInfo.InvariantCulture));

    private static YamlScalarNode Flag(bool value) => new(value ? "true" : "false");
}
