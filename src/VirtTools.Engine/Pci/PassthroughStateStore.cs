using System.Text.Json;
using VirtTools.Diagnostics;
using VirtTools.Sysfs;

namespace VirtTools.Pci;

/// <summary>
/// The records of functions handed to stub drivers, in a small JSON file under the root (/var/lib survives
/// reboots, unlike /run: the modprobe.d line of -Persist does too, so its record must).
/// </summary>
public sealed class PassthroughStateStore
{
    public const string SystemPath = "/var/lib/virttools/passthrough.json";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private readonly SystemRoot _root;

    public PassthroughStateStore(SystemRoot root) => _root = root;

    /// <summary>Every record, by address; empty when there is no file yet.</summary>
    public IReadOnlyDictionary<string, PassthroughRecord> Load()
    {
        var text = _root.ReadText(SystemPath);
        if (string.IsNullOrWhiteSpace(text)) return new Dictionary<string, PassthroughRecord>(StringComparer.Ordinal);
        try
        {
            var records = JsonSerializer.Deserialize<List<PassthroughRecord>>(text, Json) ?? new List<PassthroughRecord>();
            return records.Where(r => r.Address is not null).ToDictionary(r => r.Address, StringComparer.Ordinal);
        }
        catch (JsonException e)
        {
            throw new VirtToolsException("PassthroughStateCorrupt", FailureKind.InvalidData,
                $"{SystemPath} is not a VirtTools passthrough record: {e.Message}",
                $"Fix or delete {SystemPath}; without it Remove-PciPassthrough falls back to reprobing for a host driver.", SystemPath, e);
        }
    }

    public PassthroughRecord? Find(string address) => Load().GetValueOrDefault(address);

    /// <summary>Adds or replaces the record for its address.</summary>
    public void Save(PassthroughRecord record) =>
        Store(Load().Values.Where(r => r.Address != record.Address).Append(record));

    public void Remove(string address) => Store(Load().Values.Where(r => r.Address != address));

    private void Store(IEnumerable<PassthroughRecord> records)
    {
        var list = records.OrderBy(r => r.Address, StringComparer.Ordinal).ToList();
        var path = _root.Resolve(SystemPath);
        if (list.Count == 0) { File.Delete(path); return; }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // Write then rename, so a crash never leaves half a record behind.
        File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(list, Json) + "\n");
        File.Move(path + ".tmp", path, overwrite: true);
    }
}
