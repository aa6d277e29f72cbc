using System.Text.Json;
using VirtTools.Diagnostics;
using VirtTools.Sysfs;

namespace VirtTools.State;

/// <summary>
/// What VirtTools remembers about the changes it made (which driver a device came from), as a small JSON list in one
/// file under the root, one record per key. A change made in one shell can then be undone from any other.
/// </summary>
public sealed class JsonRecordStore<TRecord> where TRecord : class
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private readonly SystemRoot _root;
    private readonly Func<TRecord, string?> _key;
    private readonly string _corruptErrorId;
    private readonly string _withoutIt;

    /// <param name="root">The root the file lives under.</param>
    /// <param name="systemPath">The file ("/var/lib/virttools/passthrough.json").</param>
    /// <param name="key">What identifies a record (an address, a bus id).</param>
    /// <param name="corruptErrorId">The ErrorId when the file is not a list of these records.</param>
    /// <param name="withoutIt">What happens when the user deletes the file, for the error's recommended action.</param>
    public JsonRecordStore(SystemRoot root, string systemPath, Func<TRecord, string?> key, string corruptErrorId, string withoutIt)
    {
        _root = root;
        SystemPath = systemPath;
        _key = key;
        _corruptErrorId = corruptErrorId;
        _withoutIt = withoutIt;
    }

    public string SystemPath { get; }

    /// <summary>Every record, by key; empty when there is no file yet.</summary>
    public IReadOnlyDictionary<string, TRecord> Load()
    {
        var text = _root.ReadText(SystemPath);
        if (string.IsNullOrWhiteSpace(text)) return new Dictionary<string, TRecord>(StringComparer.Ordinal);
        try
        {
            var records = JsonSerializer.Deserialize<List<TRecord>>(text, Json) ?? new List<TRecord>();
            var byKey = new Dictionary<string, TRecord>(StringComparer.Ordinal);
            foreach (var record in records)
                if (_key(record) is { } key) byKey[key] = record;
            return byKey;
        }
        catch (JsonException e)
        {
            throw new VirtToolsException(_corruptErrorId, FailureKind.InvalidData,
                $"{SystemPath} is not a VirtTools record file: {e.Message}", $"Fix or delete {SystemPath}; without it {_withoutIt}.", SystemPath, e);
        }
    }

    public TRecord? Find(string key) => Load().GetValueOrDefault(key);

    /// <summary>Adds or replaces the record for its key.</summary>
    public void Save(TRecord record) => Store(Load().Values.Where(r => _key(r) != _key(record)).Append(record));

    public void Remove(string key) => Store(Load().Values.Where(r => _key(r) != key));

    private void Store(IEnumerable<TRecord> records)
    {
        var list = records.OrderBy(r => _key(r), StringComparer.Ordinal).ToList();
        var path = _root.Resolve(SystemPath);
        try
        {
            if (list.Count == 0) { if (File.Exists(path)) File.Delete(path); return; }
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            // Write then rename, so a crash never leaves half a record behind.
            File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(list, Json) + "\n");
            File.Move(path + ".tmp", path, overwrite: true);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new VirtToolsException("PermissionDenied", FailureKind.PermissionDenied, $"Cannot write {SystemPath}: {e.Message}",
                "Run as root (sudo).", SystemPath, e);
        }
    }
}
