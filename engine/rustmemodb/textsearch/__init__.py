"""PostgreSQL 15 full-text search: tsvector and tsquery values and their functions.

``parser`` splits text into the default parser's typed tokens; ``configs`` turns tokens
into lexemes under the ``simple`` and ``english`` configurations (``stopwords``, the
Snowball english stemmer); ``tsvector`` and ``tsquery`` read and print the two types;
``documents`` builds them from text (to_tsvector, to_tsquery and kin); ``match`` is the
``@@`` operator; ``rank`` is ts_rank/ts_rank_cd; ``headline`` is ts_headline. Nothing here
knows the engine: exec/functions/textsearch.py registers these as SQL functions.
"""
