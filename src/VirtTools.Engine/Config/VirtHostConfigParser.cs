using System.Globalization;
using VirtTools.Ksm;
using VirtTools.Pci;
using VirtTools.UsbIp;
using VirtTools.UsbIp.Containers;
using VirtTools.UsbIp.Protocol;
using VirtTools.Usb;
using VirtTools.UsbIp.Server;
using VirtTools.UsbIp.Tls;
using YamlDotNet.RepresentationModel;

namespace VirtTools.Config;

/// <summary>
/// Reads a YAML host profile strictly: unknown keys, wrong types and malformed values are all reported, each with
/// the file, line and column, and a profile with any problem is rejected whole, so nothing half-valid is applied.
/// The file is read and parsed within <see cref="ProfileLimits"/> (size, nesting, aliases), so no file can make the
/// agent or a session run out of stack, memory or time.
/// </summary>
public static class VirtHostConfigParser
{
    public static VirtHostConfig Load(string path, string root = "/", CancellationToken cancellation = default) =>
        Parse(ProfileFile.Read(path), path, root, cancellation);

    public static VirtHostConfig Parse(string yaml, string sourceName, string root = "/", CancellationToken cancellation = default)
    {
        var stream = BoundedYamlReader.Load(yaml, sourceName, cancellation);
        var reader = new Reader(sourceName);
        var config = stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" }
            ? new VirtHostConfig { Path = sourceName, Root = root }
            : reader.Profile(stream.Documents[0].RootNode, root);
        if (reader.Problems.Count > 0) throw ConfigErrors.Invalid(sourceName, reader.Problems);
        return config;
    }


    /// <summary>Walks the document, collecting every problem rather than stopping at the first.</summary>
    private sealed class Reader
    {
        private readonly string _source;

        public Reader(string source) => _source = source;

        public List<string> Problems { get; } = new();

        public VirtHostConfig Profile(YamlNode node, string root)
        {
            var top = Mapping(node, "the profile");
            if (top is null) return new VirtHostConfig { Path = _source, Root = root };
            Keys(top, "the profile", "usbip", "pci", "ksm");
            var pci = Child(top, "pci") is { } p ? Mapping(p, "pci") : null;
            if (pci is not null) Keys(pci, "pci", "passthrough");
            var passthrough = pci is null ? new List<PciPassthroughRule>() : Items(pci, "passthrough", "pci.passthrough").Select(Passthrough).OfType<PciPassthroughRule>().ToList();
            foreach (var duplicate in passthrough.GroupBy(r => r.Address).Where(g => g.Count() > 1))
                Problems.Add($"{duplicate.Last().Location}: {duplicate.Key} is listed more than once in pci.passthrough");
            return new VirtHostConfig
            {
                Path = _source,
                Root = root,
                UsbIp = Child(top, "usbip") is { } u ? UsbIp(u) : null,
                PciPassthrough = passthrough,
                Ksm = Child(top, "ksm") is { } k ? Ksm(k) : null,
            };
        }

        private UsbIpProfile? UsbIp(YamlNode node)
        {
            var map = Mapping(node, "usbip");
            if (map is null) return null;
            Keys(map, "usbip", "deadPeerTimeout", "server", "exports", "attachments");
            var deadPeer = Int(map, "deadPeerTimeout", "usbip.deadPeerTimeout (seconds)", UsbIpDeadPeerPolicy.MinimumSeconds, UsbIpDeadPeerPolicy.MaximumSeconds);
            var deadPeerPolicy = new UsbIpProfile { DeadPeerTimeout = deadPeer }.DeadPeer; // each attachment carries it to its socket
            return new UsbIpProfile
            {
                DeadPeerTimeout = deadPeer,
                Server = Child(map, "server") is { } s ? Server(s) : null,
                Exports = Items(map, "exports", "usbip.exports").Select(Export).OfType<UsbIpExportRule>().ToList(),
                Attachments = Items(map, "attachments", "usbip.attachments").Select(node => Attachment(node, deadPeerPolicy)).OfType<UsbIpAttachmentRule>().ToList(),
            };
        }

        private UsbIpServerProfile? Server(YamlNode node)
        {
            var map = Mapping(node, "usbip.server");
            if (map is null) return null;
            Keys(map, "usbip.server", "address", "tcpPort", "allow", "tls", "grants", "claimPorts");
            var addresses = Strings(map, "address", "usbip.server.address");
            foreach (var (value, at) in addresses)
                if (IPAddressText.Parse(value, out var problem) is null) Problems.Add($"{Where(at)}: address {problem}");
            var allow = Strings(map, "allow", "usbip.server.allow");
            foreach (var (value, at) in allow)
                if (ClientAllowList.Check(value) is { } problem) Problems.Add($"{Where(at)}: allowed client {problem}");
            var tls = Child(map, "tls") is { } t ? ServerTls(t) : null;
            var grants = Items(map, "grants", "usbip.server.grants").Select(Grant).OfType<UsbIpGrant>().ToList();
            if (grants.Count > 0 && tls?.ClientCa is null)
                Problems.Add($"{Where(Child(map, "grants")!)}: usbip.server.grants need usbip.server.tls with clientCa: only a client certificate the CA signed gives a client an identity");
            return new UsbIpServerProfile
            {
                Address = addresses.Select(a => a.Value).ToList(),
                TcpPort = Int(map, "tcpPort", "usbip.server.tcpPort", 1, 65535) ?? 3240,
                Allow = allow.Select(a => a.Value).ToList(),
                Tls = tls,
                Grants = grants,
                ClaimPorts = ClaimPorts(map),
            };
        }

        /// <summary>usbip.server.claimPorts: device bus ids (a port hangs off a hub; a root hub has none), each once.</summary>
        private List<UsbBusId> ClaimPorts(YamlMappingNode map)
        {
            var ports = Strings(map, "claimPorts", "usbip.server.claimPorts");
            if (ports.Count > ProfileLimits.MaxClaimPorts)
                Problems.Add($"{Where(Child(map, "claimPorts")!)}: usbip.server.claimPorts lists {ports.Count} ports; at most {ProfileLimits.MaxClaimPorts} (usbip-host shares no more at once)");
            var claimed = new List<UsbBusId>();
            foreach (var (value, at) in ports)
            {
                if (!UsbBusId.TryParse(value, out var busId) || busId.IsRootHub) Problems.Add($"{Where(at)}: claimed port '{value}' is not a device bus id such as 1-2 or 1-2.3");
                else if (claimed.Contains(busId)) Problems.Add($"{Where(at)}: claimed port '{value}' is listed twice");
                else claimed.Add(busId);
            }
            return claimed;
        }

        private UsbIpServerTlsProfile? ServerTls(YamlNode node)
        {
            var map = Mapping(node, "usbip.server.tls");
            if (map is null) return null;
            Keys(map, "usbip.server.tls", "certificate", "key", "clientCa", "require");
            var certificate = Scalar(map, "certificate", "usbip.server.tls");
            var key = Scalar(map, "key", "usbip.server.tls");
            if (certificate is null) Missing(map, "certificate", "usbip.server.tls");
            if (key is null) Missing(map, "key", "usbip.server.tls");
            return certificate is null || key is null ? null
                : new UsbIpServerTlsProfile(certificate, key, Scalar(map, "clientCa", "usbip.server.tls"), Bool(map, "require", "usbip.server.tls.require") ?? false);
        }

        private UsbIpGrant? Grant(YamlMappingNode map)
        {
            Keys(map, "a grant", "client", "devices");
            var client = Scalar(map, "client", "a grant");
            if (client is null) { Missing(map, "client", "a grant"); return null; }
            var devices = Strings(map, "devices", "a grant's devices").Select(d => d.Value).ToList();
            try
            {
                return UsbIpGrant.Checked(client, devices);
            }
            catch (VirtTools.Diagnostics.VirtToolsException invalid)
            {
                Problems.Add($"{Where(map)}: {invalid.Message.TrimEnd('.')}");
                return null;
            }
        }

        private UsbIpTlsClientSettings? AttachmentTls(YamlNode node)
        {
            var map = Mapping(node, "an attachment's tls");
            if (map is null) return null;
            Keys(map, "an attachment's tls", "certificate", "key", "serverCa", "serverFingerprint");
            var tls = new UsbIpTlsClientSettings
            {
                CertificatePath = Scalar(map, "certificate", "an attachment's tls"),
                KeyPath = Scalar(map, "key", "an attachment's tls"),
                ServerCaPath = Scalar(map, "serverCa", "an attachment's tls"),
                ServerFingerprint = Scalar(map, "serverFingerprint", "an attachment's tls"),
                Names = UsbIpTlsClientNames.ProfileKeys,
            };
            try
            {
                return tls.Validated();
            }
            catch (VirtTools.Diagnostics.VirtToolsException invalid)
            {
                Problems.Add($"{Where(map)}: {invalid.Message.TrimEnd('.')}");
                return null;
            }
        }

        private UsbIpExportRule? Export(YamlMappingNode map)
        {
            Keys(map, "an export", "match");
            var match = Child(map, "match") is { } m ? Match(m, "an export's match") : Missing(map, "match", "an export");
            return match is null ? null : new UsbIpExportRule { Match = match, Location = Where(map) };
        }

        private UsbIpAttachmentRule? Attachment(YamlMappingNode map, UsbIpDeadPeerPolicy? deadPeer)
        {
            Keys(map, "an attachment", "computerName", "tcpPort", "timeoutSec", "match", "reconnect", "tls", "container", "dedicatedController");
            var computer = Scalar(map, "computerName", "an attachment");
            if (computer is null) Missing(map, "computerName", "an attachment");
            var match = Child(map, "match") is { } m ? Match(m, "an attachment's match") : Missing(map, "match", "an attachment");
            var port = Int(map, "tcpPort", "an attachment's tcpPort", 1, 65535) ?? 3240;
            var timeout = Int(map, "timeoutSec", "an attachment's timeoutSec", UsbIpAttachmentRule.MinimumTimeoutSec, UsbIpAttachmentRule.MaximumTimeoutSec);
            var reconnect = Bool(map, "reconnect", "an attachment's reconnect") ?? false;
            var container = Scalar(map, "container", "an attachment");
            if (container is not null && ContainerNameText.FindProblem(container) is { } problem)
                Problems.Add($"{Where(Child(map, "container")!)}: the container name '{State.RecordField.Printable(container)}' {problem}");
            var dedicated = Bool(map, "dedicatedController", "an attachment's dedicatedController") ?? false;
            if (dedicated && container is null)
                Problems.Add($"{Where(Child(map, "dedicatedController")!)}: dedicatedController keeps a container's devices on a controller of its own: it needs container");
            return computer is null || match is null ? null
                : new UsbIpAttachmentRule
                {
                    ComputerName = computer, TcpPort = port, TimeoutSec = timeout, Match = match, Reconnect = reconnect, Container = container, DedicatedController = dedicated, Location = Where(map),
                    DeadPeer = deadPeer,
                    Tls = Child(map, "tls") is { } tls ? AttachmentTls(tls) : null,
                };
        }

        private UsbDeviceMatch? Match(YamlNode node, string what)
        {
            var map = Mapping(node, what);
            if (map is null) return null;
            Keys(map, what, "busId", "vendorId", "productId", "serial");
            var busId = Scalar(map, "busId", what);
            var vendor = Id(map, "vendorId", what);
            var product = Id(map, "productId", what);
            var serial = Scalar(map, "serial", what);
            if (busId is not null && UsbIpBusIdText.FindProblem(busId) is { } problem)
                Problems.Add($"{Where(Child(map, "busId")!)}: the bus id {UsbIpPeerText.Quote(busId)} {problem}");
            if (busId is not null && (vendor ?? product ?? serial) is not null)
                Problems.Add($"{Where(map)}: {what} names a device either by busId or by vendorId/productId/serial, not both");
            if (busId is null && vendor is null && product is null && serial is null)
                Problems.Add($"{Where(map)}: {what} is empty: give busId, or vendorId with productId and serial as needed");
            if (busId is null && (product is not null || serial is not null) && vendor is null)
                Problems.Add($"{Where(map)}: {what} needs vendorId along with productId or serial");
            return new UsbDeviceMatch { BusId = UsbBusId.TryParse(busId, out var parsed) ? parsed : null, VendorId = vendor, ProductId = product, Serial = serial };
        }

        private PciPassthroughRule? Passthrough(YamlMappingNode map)
        {
            Keys(map, "a passthrough", "address", "driver", "includeIommuGroup");
            var address = Scalar(map, "address", "a passthrough");
            if (address is null) { Missing(map, "address", "a passthrough"); return null; }
            if (!PciAddress.TryParse(address, out var parsed))
            {
                Problems.Add($"{Where(Child(map, "address")!)}: '{address}' is not a PCI address (0000:05:00.0 or 05:00.0)");
                return null;
            }
            var driver = Scalar(map, "driver", "a passthrough") ?? "vfio-pci";
            if (driver is not ("vfio-pci" or "pci-stub"))
                Problems.Add($"{Where(Child(map, "driver")!)}: driver '{driver}' is not vfio-pci or pci-stub");
            return new PciPassthroughRule
            {
                Address = parsed,
                Driver = driver,
                IncludeIommuGroup = Bool(map, "includeIommuGroup", "a passthrough's includeIommuGroup") ?? false,
                Location = Where(map),
            };
        }

        private KsmSettings? Ksm(YamlNode node)
        {
            var map = Mapping(node, "ksm");
            if (map is null) return null;
            Keys(map, "ksm", "run", "pagesToScan", "sleepMilliseconds", "maxPageSharing", "mergeAcrossNodes", "useZeroPages", "smartScan", "advisorMode");
            var run = Scalar(map, "run", "ksm.run");
            KsmRunState? runState = Enum.GetNames<KsmRunState>().FirstOrDefault(n => n.Equals(run, StringComparison.OrdinalIgnoreCase)) is { } name ? Enum.Parse<KsmRunState>(name) : null;
            if (run is not null && runState is null) Problems.Add($"{Where(Child(map, "run")!)}: ksm.run is '{run}'; it must be Stop, Run or Unmerge");
            var advisor = Scalar(map, "advisorMode", "ksm.advisorMode");
            if (advisor is not null && advisor is not ("none" or "scan-time")) Problems.Add($"{Where(Child(map, "advisorMode")!)}: ksm.advisorMode must be none or scan-time");
            return new KsmSettings
            {
                Run = runState,
                PagesToScan = Int(map, "pagesToScan", "ksm.pagesToScan", 1, int.MaxValue),
                SleepMilliseconds = Int(map, "sleepMilliseconds", "ksm.sleepMilliseconds", 0, int.MaxValue),
                MaxPageSharing = Int(map, "maxPageSharing", "ksm.maxPageSharing", 2, int.MaxValue),
                MergeAcrossNodes = Bool(map, "mergeAcrossNodes", "ksm.mergeAcrossNodes"),
                UseZeroPages = Bool(map, "useZeroPages", "ksm.useZeroPages"),
                SmartScan = Bool(map, "smartScan", "ksm.smartScan"),
                AdvisorMode = advisor,
            };
        }

        // ---- typed access with located problems ----

        private string Where(YamlNode node) => ConfigErrors.At(_source, node.Start.Line, node.Start.Column);

        private YamlMappingNode? Mapping(YamlNode node, string what)
        {
            if (node is YamlMappingNode map) return map;
            Problems.Add($"{Where(node)}: {what} must be a mapping of keys to values");
            return null;
        }

        private static YamlNode? Child(YamlMappingNode map, string key) =>
            map.Children.FirstOrDefault(c => c.Key is YamlScalarNode { Value: var k } && k == key).Value;

        private void Keys(YamlMappingNode map, string what, params string[] allowed)
        {
            foreach (var key in map.Children.Keys)
            {
                var name = (key as YamlScalarNode)?.Value;
                if (name is not null && allowed.Contains(name, StringComparer.Ordinal)) continue;
                var near = allowed.FirstOrDefault(a => a.Equals(name, StringComparison.OrdinalIgnoreCase));
                Problems.Add($"{Where(key)}: unknown key '{name}' in {what}" + (near is null ? $" (expected one of: {string.Join(", ", allowed)})" : $" (did you mean '{near}'?)"));
            }
        }

        private UsbDeviceMatch? Missing(YamlMappingNode map, string key, string what)
        {
            Problems.Add($"{Where(map)}: {what} needs '{key}'");
            return null;
        }

        private string? Scalar(YamlMappingNode map, string key, string what)
        {
            var node = Child(map, key);
            if (node is null) return null;
            if (node is YamlScalarNode { Value: { Length: > 0 } value }) return value;
            Problems.Add($"{Where(node)}: {what}'s '{key}' must be a single value");
            return null;
        }

        private string? Id(YamlMappingNode map, string key, string what)
        {
            var text = Scalar(map, key, what);
            if (text is null) return null;
            var normalized = Sysfs.SysfsText.NormalizeId(text);
            if (normalized is null || text.TrimStart('0', 'x', 'X').Length > 4)
                Problems.Add($"{Where(Child(map, key)!)}: '{text}' is not a 16-bit hex id such as 046d");
            return normalized;
        }

        private int? Int(YamlMappingNode map, string key, string what, int min, int max)
        {
            var node = Child(map, key);
            if (node is null) return null;
            if (node is YamlScalarNode { Value: var text } && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            {
                if (value >= min && value <= max) return value;
                Problems.Add($"{Where(node)}: {what} is {value}; it must be between {min} and {max}");
                return null;
            }
            Problems.Add($"{Where(node)}: {what} must be a whole number");
            return null;
        }

        private bool? Bool(YamlMappingNode map, string key, string what)
        {
            var node = Child(map, key);
            if (node is null) return null;
            if (node is YamlScalarNode { Value: var text } && text?.ToLowerInvariant() is "true" or "false" or "yes" or "no")
                return text.ToLowerInvariant() is "true" or "yes";
            Problems.Add($"{Where(node)}: {what} must be true or false");
            return null;
        }

        /// <summary>A value or a list of values ("address: ::" or "address: [0.0.0.0, '::']").</summary>
        private List<(string Value, YamlNode At)> Strings(YamlMappingNode map, string key, string what)
        {
            var node = Child(map, key);
            var items = node switch
            {
                null => new List<YamlNode>(),
                YamlSequenceNode sequence => sequence.Children.ToList(),
                _ => new List<YamlNode> { node },
            };
            var values = new List<(string, YamlNode)>();
            foreach (var item in items)
            {
                if (item is YamlScalarNode { Value: { Length: > 0 } value }) values.Add((value, item));
                else Problems.Add($"{Where(item)}: {what} must hold plain values");
            }
            return values;
        }

        private IEnumerable<YamlMappingNode> Items(YamlMappingNode map, string key, string what)
        {
            var node = Child(map, key);
            if (node is null) yield break;
            if (node is not YamlSequenceNode sequence)
            {
                Problems.Add($"{Where(node)}: {what} must be a list (items start with '- ')");
                yield break;
            }
            foreach (var item in sequence.Children)
            {
                if (item is YamlMappingNode entry) yield return entry;
                else Problems.Add($"{Where(item)}: each item of {what} must be a mapping");
            }
        }
    }
}
