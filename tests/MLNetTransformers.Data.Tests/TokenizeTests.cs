using MLNetTransformers.Data.Transforms;
using MLNetTransformers.Tokenizers;

namespace MLNetTransformers.Data.Tests;

[TestClass]
public sealed class TokenizeTests
{
    private static readonly string[] Inputs =
    [
        "Hello world",
        "",
        "The quick brown fox jumps over the lazy dog. " + new string('a', 300),
        "ünïcödé 日本語 😀 tabs\tand\nnewlines",
        "   leading and trailing   ",
    ];

    [TestMethod]
    [DataRow(null, true)]
    [DataRow(6, true)]
    [DataRow(6, false)]
    public void Tokenize_EqualsTokenizerEncode_RowByRow(int? maxLength, bool addSpecial)
    {
        var ctx = new TransformersContext();
        var options = new TokenizeOptions { ModelDirectory = TestData.TinyLlama, MaxLength = maxLength, AddSpecialTokens = addSpecial };
        IDataView data = ctx.Data.LoadFromEnumerable(Inputs.Select(t => new TextRow { Text = t }).ToArray());
        IDataView tokens = ctx.Transforms.Tokenize(options).Fit(data).Transform(data);

        Tokenizer tokenizer = Tokenizer.FromDirectory(TestData.TinyLlama);
        var encodeOptions = new EncodeOptions { AddSpecialTokens = addSpecial, Truncation = maxLength is int m ? new TruncationOptions { MaxLength = m } : null };
        DataRow[] rows = tokens.GetRows(batchSize: 2).ToArray();
        Assert.HasCount(Inputs.Length, rows);
        for (int i = 0; i < Inputs.Length; i++)
        {
            TokenEncoding expected = tokenizer.Encode(Inputs[i], null, encodeOptions);
            long[] ids = rows[i].GetValue<long[]>("input_ids");
            CollectionAssert.AreEqual(expected.Ids.Select(x => (long)x).ToArray(), ids, $"row {i}");
            CollectionAssert.AreEqual(expected.AttentionMask.Select(x => (long)x).ToArray(), rows[i].GetValue<long[]>("attention_mask"));
            CollectionAssert.AreEqual(expected.Offsets.SelectMany(o => new[] { o.Start, o.End }).ToArray(), rows[i].GetValue<int[]>("offsets"));
            Assert.IsNull(rows[i].GetValue<string?>("error"));
            if (maxLength is int max)
            {
                Assert.IsLessThanOrEqualTo(max, ids.Length);
            }
        }

        // Independent of the tokenizer: the long row really is cut to the limit, and ids are in the vocabulary.
        if (maxLength is int limit)
        {
            Assert.HasCount(limit, rows[2].GetValue<long[]>("input_ids"));
        }

        Assert.IsTrue(rows.All(r => r.GetValue<long[]>("input_ids").All(id => id >= 0 && id < tokenizer.VocabularySize)));
        Assert.AreEqual(addSpecial && tokenizer.BosTokenId is int bos, rows[0].GetValue<long[]>("input_ids").FirstOrDefault() == tokenizer.BosTokenId);
    }

    [TestMethod]
    public void Tokenize_MissingModelFolder_NamesIt()
    {
        var e = Assert.ThrowsExactly<DirectoryNotFoundException>(() => new TransformersContext().Transforms.Tokenize("/no/such/model"));
        StringAssert.Contains(e.Message, "/no/such/model");
    }
}
